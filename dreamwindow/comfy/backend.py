"""One server of the pool: its client, its slots, its health and what it can run."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

from dreamwindow.comfy.backoff import Backoff, FailureStreak
from dreamwindow.comfy.capabilities import can_run
from dreamwindow.comfy.client import ComfyClient
from dreamwindow.comfy.connection import ConnectionState
from dreamwindow.errors import ComfyError, Unavailable

log = logging.getLogger(__name__)


class Backend:
    def __init__(self, cfg: Any, name: str, notify: Callable[[], None], probe_backoff: Backoff) -> None:
        self.cfg = cfg
        self.name = name
        self.weight = float(getattr(cfg, "weight", 1.0) or 1.0)
        self.max_in_flight = max(1, int(getattr(cfg, "max_in_flight", 1) or 1))
        self.client: ComfyClient = None  # type: ignore[assignment]  # set by the pool right after
        self.in_flight = 0
        self.share = 0.0  # jobs given to this server, each counted as 1/weight (weighted fair share)
        self.cool_until = 0.0  # after an Unavailable, no new jobs before this (monotonic)
        self.object_info: dict[str, Any] | None = None
        self.version: str | None = None
        self.last_error: str | None = None
        self._notify = notify
        self._probe_backoff = probe_backoff
        self._cool_backoff = Backoff(base=0.25, cap=30.0)
        self._streak = FailureStreak(log, f"ComfyUI server {name}")
        self._tasks: set[asyncio.Task[Any]] = set()
        self._was_connected = False

    # ----- health -----------------------------------------------------------------------------------------
    def usable(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return self.client.state is ConnectionState.CONNECTED and now >= self.cool_until

    def has_slot(self) -> bool:
        return self.in_flight < self.max_in_flight

    def problems(self, graph: dict[str, Any]) -> list[str] | None:
        return None if self.object_info is None else can_run(graph, self.object_info)

    def failed(self, exc: Exception, *, cool: bool) -> None:
        self.last_error = str(exc)
        if cool:
            self.cool_until = time.monotonic() + self._cool_backoff.next_delay()

    def succeeded(self) -> None:
        self._cool_backoff.reset()
        self.cool_until = 0.0
        self.last_error = None

    # ----- connecting, probing, reconnecting ---------------------------------------------------------------
    def _spawn(self, coro: Any, what: str) -> None:
        task = asyncio.create_task(coro, name=f"{what}-{self.name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def connect_or_probe(self) -> None:
        try:
            await self._connect()
        except ComfyError as exc:
            self._streak.failure(exc)
            self.last_error = str(exc)
            self._spawn(self._probe(), "probe")

    async def _connect(self) -> None:
        await self.client.start()
        self._was_connected = True
        await self._load_info()
        self._streak.success()
        self._notify()

    async def _probe(self) -> None:
        """Retry an unreachable server with capped backoff until it answers."""
        while True:
            await asyncio.sleep(self._probe_backoff.next_delay())
            try:
                await self._connect()
            except ComfyError as exc:
                self._streak.failure(exc)
                self.last_error = str(exc)
                continue
            self._probe_backoff.reset()
            return

    def on_state(self, state: ConnectionState) -> None:
        """Called by the client on every connection change."""
        if state is ConnectionState.CONNECTED and self._was_connected:
            self._spawn(self._reload_info(), "object-info")  # it may have been updated while away
        elif state is ConnectionState.RECONNECTING:
            self.last_error = "connection lost; reconnecting"
        self._notify()

    async def _reload_info(self) -> None:
        try:
            await self._load_info()
        except ComfyError as exc:
            log.debug("%s: reading object_info after reconnect failed: %s", self.name, exc)
        self._notify()

    async def _load_info(self) -> None:
        info = await self.client.object_info()
        if not isinstance(info, dict):
            raise Unavailable(f"{self.name}: /object_info is not an object", server=self.name)
        self.object_info = info
        try:
            stats = await self.client.system_stats()
            self.version = str((stats.get("system") or {}).get("comfyui_version") or "") or None
        except ComfyError as exc:
            log.debug("%s: /system_stats failed: %s", self.name, exc)

    async def refresh(self, timeout: float) -> None:
        if self.client.state is not ConnectionState.CONNECTED:
            return
        async with asyncio.timeout(timeout):
            self.client.queue_remaining_hint = await self.client.queue_remaining()
            if self.version is None:
                stats = await self.client.system_stats()
                self.version = str((stats.get("system") or {}).get("comfyui_version") or "") or None

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.client is not None:
            await self.client.close()
