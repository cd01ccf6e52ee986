"""Fault injection for the dream engine: the test-suite's way to make the fake ComfyUI misbehave on purpose.

Every knob is a plain attribute of ``engine.faults`` (a :class:`Faults`), read by the engine at the moment it
matters, so a test flips one and the next request or prompt sees it. Counters and lists are *consumed*: a knob
that says "the next 2 prompts" counts itself down. The same knobs can be set from another process with
``POST /dreamwindow/faults`` and a JSON object of ``{attribute: value}`` (``GET`` returns the current values);
that body may also carry ``"action"``: ``"drop_websockets"``, ``"restart"`` or ``"refuse"`` (with
``"seconds"``), see :mod:`dreamwindow.engine.server`.

Knobs (defaults mean "behave like a healthy server"):

``delays: dict[str, float]``
    Route path (without the ``/api`` prefix, e.g. ``"/view"``, ``"/prompt"``, ``"/history"``; a path prefix
    matches, so ``"/history"`` also delays ``/history/{id}``) -> seconds to wait before answering.
``prompt_http_errors: list[int]``
    Each ``POST /prompt`` pops the first status and answers with it without queueing anything. 500 gives
    ComfyUI's ``text/plain`` "Server got itself in trouble" body, others a small JSON error.
``reject_prompts: int``
    The next N valid prompts are answered 400 ``prompt_outputs_failed_validation`` with a ``value_not_in_list``
    node error on the first node that has a widget input (as if a model were missing on this server).
``execution_errors: int`` and ``error_at: str | None``
    The next N prompts fail at run time with ``execution_error`` (``exception_type`` ``RuntimeError``) when
    they reach the node named by ``error_at`` (a node id or a class_type; ``None`` = the KSampler if there is
    one, else the first node that runs). Nodes before it run normally.
``ws_silent: bool``
    Sockets stay open but receive nothing at all (not even the first ``status``). HTTP keeps working.
``drop_ws_before: str | None``
    Once: when the engine is about to send a message of this type (``"execution_start"``, ``"progress"``,
    ``"executed"``, ...), it drops every WebSocket abruptly instead (close code 1006, no close frame) and goes
    on executing. Reset to ``None`` when used.
``restart_before: str | None``
    Once: like ``drop_ws_before`` but the whole engine restarts (queue, history and the running prompt are lost),
    like a crash-and-restart of ComfyUI.
``view_not_found: int`` / ``view_corrupt: int``
    The next N ``GET /view`` answer 404 / answer 200 with bytes that are not a decodable image.
``prompt_answer_delay: float``
    ``POST /prompt`` queues the prompt, then waits this long before answering: a client that gives up in the
    meantime leaves an orphan prompt behind that will still run (unless the client takes it back).
``history_delay: float``
    Extra seconds between ``execution_success`` and the history write, widening the real server's race.
``large_previews: bool``
    Previews are sent as full-size PNG frames (several hundred kB) instead of 512 px JPEGs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Faults:
    delays: dict[str, float] = field(default_factory=dict)
    prompt_http_errors: list[int] = field(default_factory=list)
    reject_prompts: int = 0
    execution_errors: int = 0
    error_at: str | None = None
    ws_silent: bool = False
    drop_ws_before: str | None = None
    restart_before: str | None = None
    view_not_found: int = 0
    view_corrupt: int = 0
    history_delay: float = 0.0
    prompt_answer_delay: float = 0.0
    large_previews: bool = False

    def reset(self) -> None:
        """Back to a healthy server."""
        fresh = Faults()
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(fresh, f.name))

    def delay_for(self, path: str) -> float:
        """Seconds to hold a request to ``path`` (longest matching prefix wins)."""
        best, best_len = 0.0, -1
        for prefix, seconds in self.delays.items():
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                if len(prefix) > best_len:
                    best, best_len = float(seconds), len(prefix)
        return best

    def take(self, name: str) -> bool:
        """Consume one unit of a counter knob; True if the fault applies to this occurrence."""
        left = getattr(self, name)
        if left > 0:
            setattr(self, name, left - 1)
            return True
        return False

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def update(self, values: dict[str, Any]) -> None:
        """Set knobs from a JSON object; unknown names are an error so typos do not pass silently."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown fault knob(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        for name, value in values.items():
            setattr(self, name, value)
