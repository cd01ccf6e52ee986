"""Per-prompt tracking: turns a stream of events into one outcome per prompt we own (pure, no I/O).

Rules learned from the traces:
- A prompt is registered *before* its ``POST /prompt`` is sent, so messages that overtake the POST's response are
  still ours. Prompt ids we never registered (other clients, prompts without a client_id) are ignored.
- The end of a prompt, on every outcome, is ``executing`` with ``node: null`` and the prompt_id. The outcome is the
  ``execution_success`` / ``execution_error`` / ``execution_interrupted`` seen before it; if none was seen (messages
  lost while the socket was away) the outcome is UNKNOWN and the caller reads ``/history/{id}``.
- Cached output nodes get ``executed`` (with the old file) but no ``executing``: a job whose wanted outputs were
  all cached is ``cached`` and returns an old picture.
- After a reconnect the server sends ``executing`` for the current node *without* prompt_id: it tells which node
  runs, not whose prompt, so it only updates a prompt we already know is running.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from dreamwindow.comfy.events import (
    Event,
    ExecutionCached,
    ExecutionError,
    ExecutionInterrupted,
    ExecutionStart,
    ExecutionSuccess,
    Executed,
    Executing,
    ImageRef,
    Preview,
    Progress,
)

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    SUCCESS = "success"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    UNKNOWN = "unknown"  # finished, but the outcome message was lost: ask /history
    LOST = "lost"  # in neither queue nor history (server restarted)
    UNAVAILABLE = "unavailable"  # the server went away and did not come back in time
    CANCELLED = "cancelled"  # we cancelled it; any later result is discarded


@dataclass
class Job:
    prompt_id: str
    output_nodes: frozenset[str] | None = None
    on_preview: Callable[[bytes, str], None] | None = None
    on_stage: Callable[[str, str], None] | None = None  # ("queued" | "started", prompt_id)
    queued_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    cached_nodes: set[str] = field(default_factory=set)
    ran_nodes: set[str] = field(default_factory=set)
    outputs: dict[str, list[ImageRef]] = field(default_factory=dict)
    outcome: Outcome | None = None
    error: ExecutionError | None = None
    interrupted: ExecutionInterrupted | None = None
    reason: str = ""  # human-readable detail for LOST / UNAVAILABLE
    history: dict[str, Any] | None = None  # the /history entry once read
    missing_since: float | None = None  # monotonic time it was first in neither queue nor history
    progress: tuple[float, float] | None = None
    posted: bool = False  # the server answered 200 to its POST /prompt
    _pending_outcome: Outcome | None = None
    _stages_told: set[str] = field(default_factory=set)
    # Downloads started as soon as `executed` named a file, keyed by (node, filename, subfolder, type); the
    # history read after completion decides which of them are used.
    prefetched: dict[tuple[str, str, str, str], Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    @property
    def started(self) -> bool:
        return self.started_at is not None

    @property
    def cached(self) -> bool:
        """True when every output we want was served from the cache (no node of it executed)."""
        wanted = self.output_nodes if self.output_nodes else set(self.outputs) or set(self.cached_nodes)
        if not wanted:
            return False
        return all(n in self.cached_nodes and n not in self.ran_nodes for n in wanted)

    def stage(self, name: str) -> None:
        """Tell the observer once per stage, always "queued" before "started": the socket's execution_start may
        overtake the POST's answer, and it proves the server accepted the prompt."""
        order = ("queued", "started")
        for step in order[: order.index(name) + 1]:
            if step in self._stages_told:
                continue
            self._stages_told.add(step)
            if self.on_stage is not None:
                try:
                    self.on_stage(step, self.prompt_id)
                except Exception:  # a broken observer must not break the job
                    log.exception("on_stage callback failed")

    def finish(self, outcome: Outcome, reason: str = "") -> bool:
        """Set the final outcome once. Returns False when it was already final (the first word wins)."""
        if self.outcome is not None:
            return False
        self.outcome = outcome
        self.reason = reason or self.reason
        self.finished_at = time.time()
        return True


class JobTracker:
    """Routes events to the jobs we own; ``feed`` returns the job an event finished, if any."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.current: str | None = None  # our prompt executing on this socket (for type-1 previews)
        self.ignored = 0  # messages about prompts we do not own

    def register(self, job: Job) -> Job:
        self.jobs[job.prompt_id] = job
        return job

    def forget(self, prompt_id: str) -> None:
        self.jobs.pop(prompt_id, None)
        if self.current == prompt_id:
            self.current = None

    def in_flight(self) -> list[Job]:
        return [j for j in self.jobs.values() if not j.finished]

    def _ours(self, prompt_id: str | None) -> Job | None:
        if prompt_id is None:
            return None
        job = self.jobs.get(prompt_id)
        if job is None:
            self.ignored += 1
        return job

    def feed(self, event: Event) -> Job | None:
        handler = self._HANDLERS.get(type(event))
        return handler(self, event) if handler else None

    def _start(self, ev: ExecutionStart) -> None:
        job = self._ours(ev.prompt_id)
        if job and not job.finished:
            if job.started_at is None:
                job.started_at = time.time()
                job.stage("started")
            self.current = job.prompt_id

    def _cached(self, ev: ExecutionCached) -> None:
        if job := self._ours(ev.prompt_id):
            job.cached_nodes.update(ev.nodes)

    def _executing(self, ev: Executing) -> Job | None:
        if ev.prompt_id is None:
            # After a reconnect: names a node, not a prompt. Only meaningful for a prompt we know is running.
            return None
        job = self._ours(ev.prompt_id)
        if job is None:
            if self.current == ev.prompt_id:
                self.current = None
            return None
        if ev.node is not None:
            job.started_at = job.started_at or time.time()
            job.ran_nodes.add(ev.node)
            self.current = job.prompt_id
            return None
        if self.current == job.prompt_id:
            self.current = None
        return job if job.finish(job._pending_outcome or Outcome.UNKNOWN) else None

    def _executed(self, ev: Executed) -> None:
        if job := self._ours(ev.prompt_id):
            if ev.images:
                job.outputs[ev.node] = list(ev.images)

    def _success(self, ev: ExecutionSuccess) -> None:
        if job := self._ours(ev.prompt_id):
            job._pending_outcome = Outcome.SUCCESS

    def _error(self, ev: ExecutionError) -> None:
        if job := self._ours(ev.prompt_id):
            job.error = ev
            job._pending_outcome = Outcome.ERROR

    def _interrupted(self, ev: ExecutionInterrupted) -> None:
        if job := self._ours(ev.prompt_id):
            job.interrupted = ev
            job._pending_outcome = Outcome.INTERRUPTED

    def _progress(self, ev: Progress) -> None:
        if job := self._ours(ev.prompt_id):
            job.progress = (ev.value, ev.max)

    def preview_target(self, ev: Preview) -> Job | None:
        """The job a preview belongs to: named by type-4 metadata, else the prompt running on our socket."""
        prompt_id = ev.prompt_id if ev.prompt_id is not None else self.current
        job = self.jobs.get(prompt_id) if prompt_id else None
        return job if job and not job.finished else None

    _HANDLERS: dict[type, Callable[[JobTracker, Any], Job | None]] = {
        ExecutionStart: _start,
        ExecutionCached: _cached,
        Executing: _executing,
        Executed: _executed,
        ExecutionSuccess: _success,
        ExecutionError: _error,
        ExecutionInterrupted: _interrupted,
        Progress: _progress,
    }
