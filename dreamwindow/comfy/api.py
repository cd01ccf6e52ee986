"""Pure interpretation of ComfyUI HTTP responses: ``POST /prompt``, ``/history/{id}``, ``/queue``.

Kept apart from the client so the recorded responses in the traces can be checked without a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dreamwindow.comfy.events import ImageRef, _image_refs
from dreamwindow.comfy.jobs import Outcome
from dreamwindow.errors import NodeError, Rejected, Unavailable


def parse_node_errors(node_errors: Any) -> list[NodeError]:
    """ComfyUI's ``node_errors`` mapping → one NodeError per error entry (node id, class, input, message)."""
    result: list[NodeError] = []
    if not isinstance(node_errors, dict):
        return result
    for node_id, entry in node_errors.items():
        entry = entry if isinstance(entry, dict) else {}
        class_type = str(entry.get("class_type") or "?")
        errors = entry.get("errors") or [{}]
        for err in errors:
            err = err if isinstance(err, dict) else {"message": str(err)}
            extra = err.get("extra_info") or {}
            input_name = extra.get("input_name") if isinstance(extra, dict) else None
            message = str(err.get("message") or err.get("type") or "invalid")
            result.append(NodeError(str(node_id), class_type, input_name, message, str(err.get("details") or "")))
    return result


def _dependent_outputs(node_errors: dict[str, Any]) -> set[str]:
    outs: set[str] = set()
    for node_id, entry in node_errors.items():
        deps = entry.get("dependent_outputs") if isinstance(entry, dict) else None
        # Without dependent_outputs, assume the node itself is the output it breaks.
        outs.update(str(d) for d in deps or [node_id])
    return outs


def check_prompt_response(
    status: int,
    body: Any,
    *,
    output_nodes: frozenset[str] | None,
    server: str | None = None,
    prompt_id: str | None = None,
) -> None:
    """Raise what a ``POST /prompt`` answer means, or return when the prompt is queued and usable.

    400 → Rejected (graph invalid; retrying cannot help). 200 with ``node_errors`` touching an output we need
    (any output when we did not say which) → Rejected. 5xx or an unexpected answer → Unavailable.
    """
    if status == 200 and isinstance(body, dict):
        errors = body.get("node_errors") or {}
        if isinstance(errors, dict) and errors:
            broken = _dependent_outputs(errors)
            if output_nodes is None or broken & set(output_nodes):
                raise Rejected(
                    "the server accepted the prompt but an output we need failed validation",
                    node_errors=parse_node_errors(errors), error_type="partial_node_errors",
                    server=server, prompt_id=prompt_id,
                )
        return
    if status == 400 and isinstance(body, dict):
        err = body.get("error") if isinstance(body.get("error"), dict) else {}
        message = str(err.get("message") or "prompt rejected")
        details = str(err.get("details") or "")
        if details and details not in message:
            message = f"{message} ({details})"
        raise Rejected(
            message, node_errors=parse_node_errors(body.get("node_errors")), error_type=err.get("type"),
            server=server, prompt_id=prompt_id,
        )
    text = body if isinstance(body, str) else repr(body)
    # One log line: ComfyUI's 500 page is several lines of text.
    raise Unavailable(f"POST /prompt answered {status}: {' '.join(text.split())[:200]}", server=server,
                      prompt_id=prompt_id)


@dataclass
class HistoryResult:
    """What ``GET /history/{id}`` says about one prompt."""

    outcome: Outcome
    outputs: dict[str, list[ImageRef]] = field(default_factory=dict)
    cached_nodes: set[str] = field(default_factory=set)
    error: dict[str, Any] | None = None  # the execution_error data, if any
    interrupted: dict[str, Any] | None = None


def parse_history(body: Any, prompt_id: str) -> HistoryResult | None:
    """The entry for ``prompt_id`` in a ``/history/{id}`` answer, or None when it is not there (yet)."""
    if not isinstance(body, dict) or not isinstance(body.get(prompt_id), dict):
        return None
    entry = body[prompt_id]
    outputs = {}
    for node_id, out in (entry.get("outputs") or {}).items():
        refs = _image_refs(out) if isinstance(out, dict) else ()
        if refs:
            outputs[str(node_id)] = list(refs)
    status = entry.get("status") or {}
    result = HistoryResult(Outcome.UNKNOWN, outputs)
    for item in status.get("messages") or ():
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[1], dict)):
            continue
        kind, data = item
        if kind == "execution_cached":
            result.cached_nodes.update(str(n) for n in data.get("nodes") or ())
        elif kind == "execution_error":
            result.error = data
        elif kind == "execution_interrupted":
            result.interrupted = data
    if result.interrupted is not None:
        result.outcome = Outcome.INTERRUPTED
    elif result.error is not None:
        result.outcome = Outcome.ERROR
    elif status.get("status_str") == "success" or (not status and outputs):
        result.outcome = Outcome.SUCCESS
    elif status.get("status_str") == "error":
        result.outcome = Outcome.ERROR
    return result


def queue_ids(body: Any) -> tuple[set[str], set[str]]:
    """``GET /queue`` → (running prompt ids, pending prompt ids). Items are ``[number, prompt_id, ...]``."""
    def ids(items: Any) -> set[str]:
        return {str(i[1]) for i in items or () if isinstance(i, (list, tuple)) and len(i) > 1}
    body = body if isinstance(body, dict) else {}
    return ids(body.get("queue_running")), ids(body.get("queue_pending"))


def select_images(
    outputs: dict[str, list[ImageRef]], output_nodes: frozenset[str] | None
) -> list[tuple[str, ImageRef]]:
    """The images to download: those of the wanted nodes, or every saved (type "output") image, else any."""
    if output_nodes:
        return [(n, ref) for n in sorted(output_nodes) for ref in outputs.get(n, ())]
    chosen = [(n, ref) for n, refs in outputs.items() for ref in refs if ref.type == "output"]
    return chosen or [(n, ref) for n, refs in outputs.items() for ref in refs]
