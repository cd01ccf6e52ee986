"""BackendPool: several ComfyUI servers used as one.

- Each job goes to a connected server that can run its graph, with the lowest (in flight + 1) / weight, and never
  more than ``max_in_flight`` per server: when all are full the job waits for a free slot.
- Unavailable (server down, 5xx, no answer) → the server cools down (backoff) and the job is retried on another
  one; Lost (server restarted and forgot it) → resubmitted once, preferably elsewhere. Rejected, ExecutionFailed,
  Interrupted and Timeout are the job's own fate and are not retried here.
- A server that could not be reached at start is probed with capped backoff until it answers; a connected
  server that drops is reconnected by its client. Either way, its ``/object_info`` is read again when it comes
  back, and ``can_run`` skips servers that lack a node class or a model for this graph.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import aiohttp

from dreamwindow.comfy.backend import Backend
from dreamwindow.comfy.backoff import Backoff
from dreamwindow.comfy.client import ComfyClient, Tuning
from dreamwindow.comfy.connection import ConnectionState
from dreamwindow.comfy.results import JobResult
from dreamwindow.errors import Lost, Rejected, Timeout, Unavailable

log = logging.getLogger(__name__)


@dataclass
class BackendStatus:
    name: str
    url: str
    reachable: bool
    state: str
    version: str | None
    queue_remaining: int | None
    in_flight: int
    max_in_flight: int
    weight: float
    last_error: str | None
    node_classes: int | None


class BackendPool:
    def __init__(
        self,
        backends: list[Any],
        *,
        request_timeout: float = 30.0,
        tuning: Callable[[], Tuning] | None = None,
        probe_backoff: Callable[[], Backoff] | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if not backends:
            raise ValueError("a pool needs at least one backend")
        self._cond = asyncio.Condition()
        self._session = session
        self._own_session = session is None
        self._tuning = tuning or Tuning
        self._probe_backoff = probe_backoff or (lambda: Backoff(base=1.0, cap=60.0))
        self.request_timeout = request_timeout
        self._configs = list(backends)
        self.backends: list[Backend] = []

    async def start(self) -> None:
        """Connect to every server at once. Unreachable ones are probed in the background; this never raises."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        for cfg in self._configs:
            name = getattr(cfg, "name", None) or cfg.url.split("://", 1)[-1].rstrip("/")
            backend = Backend(cfg, name, self._notify, self._probe_backoff())
            backend.client = ComfyClient(
                cfg.url, name=name, headers=dict(getattr(cfg, "headers", None) or {}),
                request_timeout=self.request_timeout, session=self._session, tuning=self._tuning(),
                on_state=backend.on_state,
            )
            self.backends.append(backend)
        await asyncio.gather(*(b.connect_or_probe() for b in self.backends))
        up = [b.name for b in self.backends if b.usable()]
        log.info("ComfyUI pool: %d of %d server(s) up%s", len(up), len(self.backends), f" ({', '.join(up)})" if up else "")

    async def close(self) -> None:
        await asyncio.gather(*(b.close() for b in self.backends), return_exceptions=True)
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _notify(self) -> None:
        asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def wait_until_up(self, name: str | None = None, *, timeout: float = 30.0) -> None:
        """Wait until the named server (or any) is connected with its object_info read; Timeout otherwise."""
        def ready() -> bool:
            return any(b.usable() and b.object_info is not None for b in self.backends if name in (None, b.name))

        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(ready), timeout)
            except TimeoutError:
                raise Timeout(f"no ComfyUI server {'named ' + name + ' ' if name else ''}came up within {timeout:g} s") from None

    # ----- capability checks ------------------------------------------------------------------------------
    def can_run(self, graph: dict[str, Any]) -> dict[str, list[str] | None]:
        """Per server: the problems that stop it running ``graph`` ([] = fine, None = not known yet)."""
        return {b.name: b.problems(graph) for b in self.backends}

    def _refuse_if_nobody_can(self, graph: dict[str, Any]) -> None:
        """Refuse at once when no server is known to run ``graph`` and every connected one is known not to.

        Servers that are down and never answered are not waited for: the job would otherwise hold its slot until
        its deadline, again and again, while the rest of the wall starves."""
        verdicts = {b.name: b.problems(graph) for b in self.backends}
        if any(v == [] for v in verdicts.values()):
            return  # someone can (maybe after it comes back)
        connected = [b for b in self.backends if b.client.state is ConnectionState.CONNECTED]
        if not connected or any(verdicts[b.name] is None for b in connected):
            return  # nobody to ask yet, or a connected server's node list is still being read
        lines = "; ".join(f"{name}: {' / '.join(problems)}" for name, problems in verdicts.items() if problems)
        unknown = [name for name, problems in verdicts.items() if problems is None]
        if unknown:
            lines += f" (not reachable, so not asked: {', '.join(unknown)})"
        raise Rejected(f"no server can run this workflow — {lines}", error_type="unsupported_by_servers")

    # ----- dispatch ---------------------------------------------------------------------------------------
    async def _acquire(self, graph: dict[str, Any], avoid: set[str], until: float) -> Backend:
        async with self._cond:
            while True:
                self._refuse_if_nobody_can(graph)
                now = time.monotonic()
                free = [b for b in self.backends if b.usable(now) and b.has_slot() and b.problems(graph) == []]
                if free:
                    # Shortest queue (scaled by weight) first; among equals, the server furthest behind its
                    # weighted share, so weights divide the work even when every server is idle at dispatch.
                    lead = max(b.share for b in free)
                    for b in free:  # a server back from an outage catches up by a couple of jobs, not by hours
                        b.share = max(b.share, lead - 2.0)
                    best = min(free, key=lambda b: (b.name in avoid, b.in_flight / b.weight, b.share))
                    best.in_flight += 1
                    best.share += 1.0 / best.weight
                    return best
                remaining = until - now
                if remaining <= 0:
                    raise Timeout("no ComfyUI server was free and able to run the job before its deadline")
                wake = min([remaining, 0.5] + [b.cool_until - now for b in self.backends if b.cool_until > now])
                try:
                    await asyncio.wait_for(self._cond.wait(), timeout=max(wake, 0.001))
                except TimeoutError:
                    pass

    async def _release(self, backend: Backend) -> None:
        async with self._cond:
            backend.in_flight -= 1
            self._cond.notify_all()

    async def run(
        self,
        job_graph: dict[str, Any],
        *,
        output_nodes: list[str] | None = None,
        deadline: float = 600.0,
        on_preview: Callable[[bytes, str], None] | None = None,
    ) -> JobResult:
        until = time.monotonic() + deadline
        avoid: set[str] = set()
        lost_once = False
        while True:
            backend = await self._acquire(job_graph, avoid, until)
            remaining = until - time.monotonic()
            try:
                result = await backend.client.run(job_graph, output_nodes=output_nodes, deadline=remaining,
                                                  on_preview=on_preview)
            except Lost as exc:
                backend.failed(exc, cool=False)
                if lost_once:
                    raise
                lost_once = True
                avoid = {backend.name}
                log.warning("%s lost job %s; submitting it once more", backend.name, exc.prompt_id)
            except Unavailable as exc:
                backend.failed(exc, cool=True)
                avoid = {backend.name}
                log.debug("%s unavailable for a job (%s); trying elsewhere", backend.name, exc)
            else:
                backend.succeeded()
                return result
            finally:
                await self._release(backend)

    # ----- reporting --------------------------------------------------------------------------------------
    async def status(self, *, timeout: float = 5.0) -> list[BackendStatus]:
        """Fresh per-server facts for ``dreamwindow check`` and logs (queue length and version are asked now)."""
        await asyncio.gather(*(b.refresh(timeout) for b in self.backends), return_exceptions=True)
        return [
            BackendStatus(
                name=b.name, url=b.client.url, reachable=b.client.state is ConnectionState.CONNECTED,
                state=b.client.state.value, version=b.version, queue_remaining=b.client.queue_remaining_hint,
                in_flight=b.in_flight, max_in_flight=b.max_in_flight, weight=b.weight, last_error=b.last_error,
                node_classes=len(b.object_info) if b.object_info is not None else None,
            )
            for b in self.backends
        ]
