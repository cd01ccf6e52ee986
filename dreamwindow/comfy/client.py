"""ComfyClient: runs graphs on one ComfyUI server and returns image bytes, or raises why not.

The exception class is the retry policy (see ``dreamwindow.errors``): Rejected (bad graph, do not retry),
ExecutionFailed (this run failed; a new seed may help), Unavailable / Lost (server trouble: retry, maybe
elsewhere), Timeout (the job deadline passed), Interrupted (cancelled). Success always carries image bytes.

Jobs are tracked by the WebSocket events (``jobs.JobTracker``); a watchdog polls ``/history/{id}`` and
``/queue`` for jobs whose socket went quiet, after a reconnect, or while a job is missing from both
(after a grace period it is Lost); a server that stays away fails its jobs as Unavailable.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import aiohttp

from dreamwindow.comfy.api import check_prompt_response, parse_history, queue_ids
from dreamwindow.comfy.backoff import Backoff, FailureStreak
from dreamwindow.comfy.connection import ConnectionState, WsConnection
from dreamwindow.comfy.events import Event, Executed, ExecutionStart, Preview, Status
from dreamwindow.comfy.http import Http
from dreamwindow.comfy.jobs import Job, JobTracker, Outcome
from dreamwindow.comfy.results import ImageResult, JobResult, collect, download, prefetch_key
from dreamwindow.errors import ComfyError, Lost, Timeout, Unavailable

log = logging.getLogger(__name__)

__all__ = ["ComfyClient", "ConnectionState", "ImageResult", "JobResult", "Tuning"]


@dataclass
class Tuning:
    """Time constants; tests shrink them so failure paths run in milliseconds."""

    heartbeat: float | None = 10.0  # WebSocket ping interval; a missing pong closes the socket
    stall_timeout: float = 15.0  # no message this long while jobs are in flight → poll history/queue
    poll_interval: float = 1.0  # watchdog tick
    lost_grace: float = 5.0  # in neither queue nor history this long → Lost
    # Disconnected this long with jobs in flight → they fail Unavailable and the pool moves them. Long enough for a
    # network blip, short enough that a crashed server (whose restart loses the queue anyway) costs little.
    unavailable_after: float = 5.0
    connect_timeout: float = 10.0
    history_attempts: int = 8  # history may lag behind execution_success / executing null
    history_delay: float = 0.05
    backoff: Backoff = field(default_factory=lambda: Backoff(base=0.5, cap=30.0))


class ComfyClient:
    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        headers: dict[str, str] | None = None,
        request_timeout: float = 30.0,
        session: aiohttp.ClientSession | None = None,
        tuning: Tuning | None = None,
        on_state: Callable[[ConnectionState], None] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.name = name or self.url
        self.headers = dict(headers or {})
        self.request_timeout = request_timeout
        self.tuning = tuning or Tuning()
        self.client_id = str(uuid.uuid4())
        self.tracker = JobTracker()
        self.queue_remaining_hint: int | None = None  # from the last status message
        self.last_error: str | None = None
        self._session = session
        self._own_session = session is None
        self._on_state = on_state
        self._waiters: dict[str, asyncio.Future[Job]] = {}
        self._abandoned: dict[str, None] = {}  # prompt ids given up on while their POST had no answer (ordered)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watchdog: asyncio.Task[None] | None = None
        self._http: Http | None = None
        self._conn: WsConnection | None = None
        self._jobs_streak = FailureStreak(log, f"jobs on {self.name}")

    # ----- lifecycle -------------------------------------------------------------------------------------
    @property
    def state(self) -> ConnectionState:
        return self._conn.state if self._conn else ConnectionState.IDLE

    async def start(self) -> None:
        """Open the WebSocket and wait for its first status; raises Unavailable if the server cannot be reached."""
        if self._conn is not None and self._conn.state is not ConnectionState.IDLE:
            return
        if self._session is None:
            self._session = aiohttp.ClientSession()
        self._http = Http(self.url, self._session, headers=self.headers, timeout=self.request_timeout, server=self.name)
        t = self.tuning
        self._conn = WsConnection(
            self._http, self.client_id, on_event=self._on_event, on_connected=self._catch_up,
            on_state=self._on_state, heartbeat=t.heartbeat, connect_timeout=t.connect_timeout, backoff=t.backoff,
        )
        await self._conn.start()
        self._watchdog = asyncio.create_task(self._watch(), name=f"comfy-watchdog-{self.name}")

    async def close(self) -> None:
        for fut in self._waiters.values():
            if not fut.done():
                fut.cancel()
        tasks = [t for t in (self._watchdog, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._watchdog = None
        if self._conn is not None:
            await self._conn.close()
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)  # keep a reference: the loop only holds weak ones
        task.add_done_callback(self._tasks.discard)

    @property
    def http(self) -> Http:
        if self._http is None:
            raise Unavailable("client not started", server=self.name)
        return self._http

    # ----- plain queries ----------------------------------------------------------------------------------
    async def object_info(self) -> dict[str, Any]:
        return await self.http.get_json("/object_info")

    async def system_stats(self) -> dict[str, Any]:
        return await self.http.get_json("/system_stats")

    async def queue_remaining(self) -> int:
        body = await self.http.get_json("/prompt")
        return int(((body.get("exec_info") or {}).get("queue_remaining")) or 0)

    # ----- running jobs -----------------------------------------------------------------------------------
    async def run(
        self,
        graph: dict[str, Any],
        *,
        output_nodes: list[str] | None = None,
        deadline: float = 600.0,
        on_preview: Callable[[bytes, str], None] | None = None,
        on_stage: Callable[[str, str], None] | None = None,
    ) -> JobResult:
        """Run one graph to its images. ``on_stage(stage, prompt_id)`` is told "queued" once the server accepted
        the prompt and "started" when it begins executing it."""
        if self.state is not ConnectionState.CONNECTED:
            raise Unavailable(f"not connected ({self.state.value})", server=self.name)
        job = Job(str(uuid.uuid4()), frozenset(output_nodes) if output_nodes else None, on_preview, on_stage)
        waiter: asyncio.Future[Job] = asyncio.get_running_loop().create_future()
        self._waiters[job.prompt_id] = waiter
        self.tracker.register(job)  # before the POST: its messages may overtake the response
        started = time.monotonic()
        try:
            async with asyncio.timeout(deadline):
                await self._submit(job, graph)
                if job.outcome is Outcome.CANCELLED:
                    # cancel() came while the POST was on its way: its delete found nothing to delete, and the
                    # prompt is queued now. Take it back before saying it is cancelled.
                    await self._cancel_on_server(job)
                await waiter
                result = await collect(self, job, started)
        except TimeoutError:
            self._spawn(self._cancel_on_server(job), f"cancel-{job.prompt_id}")
            self._note_failure(f"deadline of {deadline:g} s passed")
            raise Timeout(f"job did not finish within {deadline:g} s", server=self.name, prompt_id=job.prompt_id) from None
        except asyncio.CancelledError:
            if job.posted and not job.finished:
                self._spawn(self._cancel_on_server(job), f"cancel-{job.prompt_id}")
            raise
        except (Unavailable, Timeout) as exc:
            exc.prompt_id = exc.prompt_id or job.prompt_id
            if not job.posted:
                self._abandon(job.prompt_id)  # the server may have queued it without telling us
            if job.outcome is not Outcome.CANCELLED:  # our own cancel is not a failure of the server
                self._note_failure(exc)
            raise
        except ComfyError as exc:  # rejected graphs and execution errors are the job's, not the server's
            self.last_error = str(exc)
            raise
        finally:
            self._waiters.pop(job.prompt_id, None)
            self.tracker.forget(job.prompt_id)  # later messages for it are ignored (result discarded)
            for task in job.prefetched.values():  # downloads history did not ask for
                task.cancel()
            job.prefetched.clear()
        self._jobs_streak.success()
        self.last_error = None
        return result

    def _note_failure(self, exc: object) -> None:
        self.last_error = str(exc)
        self._jobs_streak.failure(exc)

    async def _submit(self, job: Job, graph: dict[str, Any]) -> None:
        body = {"prompt": graph, "client_id": self.client_id, "prompt_id": job.prompt_id}
        status, answer = await self.http.post_json("/prompt", body)
        try:
            check_prompt_response(status, answer, output_nodes=job.output_nodes, server=self.name, prompt_id=job.prompt_id)
        except ComfyError:
            if status == 200:  # queued with only some outputs valid: take it back
                self._spawn(self._cancel_on_server(job), f"cancel-{job.prompt_id}")
            raise
        job.posted = True
        job.stage("queued")

    async def cancel(self, prompt_id: str) -> None:
        """Cancel one of our jobs: its run() raises Interrupted. Ids we do not own are never touched."""
        job = self.tracker.jobs.get(prompt_id)
        if job is None or job.finished:
            return
        self._resolve(job, Outcome.CANCELLED, "cancelled")
        await self._cancel_on_server(job)

    async def _cancel_on_server(self, job: Job) -> None:
        await self._take_back(job.prompt_id)

    async def _take_back(self, prompt_id: str, *, interrupt_only: bool = False) -> None:
        """Delete our prompt if pending; interrupt it by id only if it is running now (never someone else's)."""
        try:
            if not interrupt_only:
                await self.http.post_json("/queue", {"delete": [prompt_id]})
                running, _ = queue_ids(await self.http.get_json("/queue"))
                if prompt_id not in running:
                    return
            await self.http.post_json("/interrupt", {"prompt_id": prompt_id})
        except ComfyError as exc:
            log.debug("%s: taking back %s on the server failed: %s", self.name, prompt_id, exc)

    def _resolve(self, job: Job, outcome: Outcome | None = None, reason: str = "") -> None:
        if outcome is not None and not job.finish(outcome, reason):
            return
        waiter = self._waiters.get(job.prompt_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(job)

    # ----- events ------------------------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if isinstance(event, Preview):
            job = self.tracker.preview_target(event)
            if job is not None and job.on_preview is not None:
                try:
                    job.on_preview(event.data, job.prompt_id)
                except Exception:  # a broken preview consumer must not break the socket
                    log.exception("%s: on_preview callback failed", self.name)
            return
        if isinstance(event, Status):
            self.queue_remaining_hint = event.queue_remaining
        if isinstance(event, ExecutionStart) and event.prompt_id in self._abandoned:
            log.info("%s: interrupting prompt %s, which we had given up on", self.name, event.prompt_id)
            self._spawn(self._take_back(event.prompt_id, interrupt_only=True), f"interrupt-{event.prompt_id}")
        finished = self.tracker.feed(event)
        if isinstance(event, Executed):
            self._prefetch(event)
        if finished is not None:
            self._resolve(finished)

    def _abandon(self, prompt_id: str) -> None:
        """A POST /prompt without a clear answer may still have queued the prompt, and the pool is about to run
        the job elsewhere. Delete it now, and interrupt it by id should it start later anyway: it is ours (we
        chose its id), so this never touches anyone else's work."""
        self._abandoned[prompt_id] = None
        while len(self._abandoned) > 256:
            self._abandoned.pop(next(iter(self._abandoned)))
        self._spawn(self._take_back(prompt_id), f"abandon-{prompt_id}")

    def _prefetch(self, event: Executed) -> None:
        """Start downloading an output as soon as `executed` names it, so the image is (nearly) in hand when the
        prompt completes; the history read afterwards still decides what the result is."""
        job = self.tracker.jobs.get(event.prompt_id) if event.prompt_id else None
        if job is None or job.finished or (job.output_nodes and event.node not in job.output_nodes):
            return
        for ref in event.images:
            key = prefetch_key(event.node, ref)
            if key not in job.prefetched:
                task = asyncio.get_running_loop().create_task(download(self, job, event.node, ref))
                task.add_done_callback(_consume_exception)  # an unused failed prefetch must not warn
                job.prefetched[key] = task

    # ----- catching up: reconnects, silent sockets, lost jobs ----------------------------------------------------
    async def _catch_up(self) -> None:
        """After a (re)connect: messages sent while away are lost, so ask the server about every job."""
        jobs = [j for j in self.tracker.in_flight() if j.posted]
        if jobs:
            log.info("%s: reconnected; checking %d job(s) in flight", self.name, len(jobs))
            await self._probe(jobs)

    async def _probe(self, jobs: list[Job]) -> int:
        """Resolve jobs from /history, keep those still queued, mark missing ones; returns how many resolved."""
        resolved = 0
        running = pending = None
        for job in jobs:
            if job.finished:
                continue
            hist = parse_history(await self.http.get_json(f"/history/{job.prompt_id}"), job.prompt_id)
            if hist is None:
                if running is None:
                    running, pending = queue_ids(await self.http.get_json("/queue"))
                if job.prompt_id in running or job.prompt_id in pending:
                    job.missing_since = None
                    continue
                # It may have finished between the two calls: ask history once more before counting it missing.
                hist = parse_history(await self.http.get_json(f"/history/{job.prompt_id}"), job.prompt_id)
            if hist is None:
                now = time.monotonic()
                job.missing_since = job.missing_since or now
                if now - job.missing_since >= self.tuning.lost_grace:
                    self._resolve(job, Outcome.LOST, "the server has no record of it (restarted?)")
                continue
            job.history = hist
            self._resolve(job, hist.outcome if hist.outcome is not Outcome.UNKNOWN else Outcome.SUCCESS)
            resolved += 1
        return resolved

    async def _watch(self) -> None:
        t = self.tuning
        while True:
            await asyncio.sleep(t.poll_interval)
            jobs = [j for j in self.tracker.in_flight() if j.posted]
            if not jobs or self._conn is None:
                continue
            conn, now = self._conn, time.monotonic()
            if conn.state is not ConnectionState.CONNECTED:
                if conn.disconnected_at is not None and now - conn.disconnected_at >= t.unavailable_after:
                    for job in jobs:
                        self._resolve(job, Outcome.UNAVAILABLE, f"disconnected for {now - conn.disconnected_at:.1f} s")
                continue
            stalled = now - conn.last_message_at >= t.stall_timeout
            suspects = jobs if stalled else [j for j in jobs if j.missing_since is not None]
            if not suspects:
                continue
            if stalled:
                log.debug("%s: socket quiet for %.1f s with %d job(s) in flight; polling", self.name,
                          now - conn.last_message_at, len(jobs))
            try:
                resolved = await self._probe(suspects)
            except ComfyError as exc:
                log.debug("%s: polling failed: %s", self.name, exc)
                continue
            if stalled and resolved:
                # Jobs finished without a word on the socket: it is deaf (orphaned). Replace it.
                log.warning("%s: WebSocket silent while jobs finished; reconnecting", self.name)
                await conn.force_reconnect()

    async def read_history(self, job: Job) -> Any:
        """The job's history entry, retried briefly because it can lag behind the completion messages."""
        t = self.tuning
        for attempt in range(t.history_attempts):
            hist = parse_history(await self.http.get_json(f"/history/{job.prompt_id}"), job.prompt_id)
            if hist is not None:
                return hist
            await asyncio.sleep(t.history_delay * (attempt + 1))
        raise Lost("finished, but the server has no history for it", server=self.name, prompt_id=job.prompt_id)


def _consume_exception(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
