"""One exception tree for DreamWindow.

The class of a ComfyUI error drives the retry policy: ``Unavailable`` and ``Timeout`` are worth retrying
(possibly elsewhere), ``Rejected`` is a configuration problem that retrying cannot fix, ``ExecutionFailed``
is a runtime failure of one job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DreamWindowError(Exception):
    """Base of every error DreamWindow raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file a user edits."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        key = f"{self.key}: " if self.key else ""
        if not self.file:  # not about one file (e.g. none was found): no "path:" prefix to mislead
            return f"{key}{self.message}"
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {key}{self.message}"


class ConfigError(DreamWindowError):
    """A config, playlist or workflow file is invalid. Holds every problem found, not just the first."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems: list[Problem] = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ComfyError(DreamWindowError):
    """Something went wrong talking to a ComfyUI server."""

    def __init__(self, message: str, *, server: str | None = None, prompt_id: str | None = None) -> None:
        self.server = server
        self.prompt_id = prompt_id
        super().__init__(message)


class Unavailable(ComfyError):
    """The server cannot be reached, answered 5xx, or lost the job (restart). Retry with backoff."""


class Timeout(ComfyError):
    """A call or a whole job ran past its deadline."""


@dataclass(frozen=True)
class NodeError:
    """One entry of ComfyUI's ``node_errors``: which node and input, and why."""

    node_id: str
    class_type: str
    input_name: str | None
    message: str
    details: str = ""

    def __str__(self) -> str:
        where = f"node {self.node_id} ({self.class_type})"
        if self.input_name:
            where += f" input {self.input_name!r}"
        detail = f" [{self.details}]" if self.details and self.details not in self.message else ""
        return f"{where}: {self.message}{detail}"


class Rejected(ComfyError):
    """The server refused the graph (HTTP 400, or 200 with node_errors on an output we need).

    Retrying the same graph cannot help: it is a configuration error of the playlist item or workflow.
    """

    def __init__(
        self,
        message: str,
        *,
        node_errors: list[NodeError] | None = None,
        error_type: str | None = None,
        server: str | None = None,
        prompt_id: str | None = None,
    ) -> None:
        self.node_errors: list[NodeError] = list(node_errors or [])
        self.error_type = error_type
        text = message
        if self.node_errors:
            text += "; " + "; ".join(str(e) for e in self.node_errors)
        super().__init__(text, server=server, prompt_id=prompt_id)


class ExecutionFailed(ComfyError):
    """The graph was accepted but failed while running (``execution_error``), or produced no usable image."""

    def __init__(
        self,
        message: str,
        *,
        node_id: str | None = None,
        node_type: str | None = None,
        exception_type: str | None = None,
        server: str | None = None,
        prompt_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.node_id = node_id
        self.node_type = node_type
        self.exception_type = exception_type
        self.details: dict[str, Any] = dict(details or {})
        where = (f"node {node_id} ({node_type}): " if node_type else f"node {node_id}: ") if node_id else ""
        kind = f"{exception_type}: " if exception_type else ""
        super().__init__(f"{where}{kind}{message}", server=server, prompt_id=prompt_id)


class Interrupted(ComfyError):
    """The job was interrupted or cancelled before it finished."""


class Lost(Unavailable):
    """The server forgot the job (it is in neither queue nor history, typically after a restart)."""


class OutputUnusable(ExecutionFailed):
    """The job ran, but its image could not be downloaded or decoded. Worth one retry with a new seed."""


class NotNew(DreamWindowError):
    """The server answered with a picture we already have (a cached graph, e.g. a fixed seed). Not a failure."""

    def __init__(self, message: str, *, server: str | None = None, prompt_id: str | None = None) -> None:
        self.server = server
        self.prompt_id = prompt_id
        super().__init__(message)
