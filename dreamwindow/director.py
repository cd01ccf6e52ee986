"""Pacing: how long each picture stays, and keeping a few generated ahead of need.

APScheduler's AsyncIOScheduler owns the clock: an interval job advances the wall every ``rotation.every``
seconds, and one-shot jobs retry generation after failures with capped backoff. The counting (what is ready,
what is in flight, what to show when starved) is the pure ``Rotation`` class so it is tested without time.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from dreamwindow.comfy.backoff import Backoff, FailureStreak
from dreamwindow.errors import DreamWindowError, NotNew
from dreamwindow.store import ImageStore, StoredImage

log = logging.getLogger(__name__)

ShowFn = Callable[[StoredImage], Awaitable[bool]]


class Rotation:
    """What is ready, in flight and on screen. Never more than ``lookahead`` pictures ahead of need."""

    def __init__(self, lookahead: int) -> None:
        if lookahead < 1:
            raise ValueError("lookahead must be at least 1")
        self.lookahead = lookahead
        self.ready: deque[StoredImage] = deque()
        self.in_flight = 0
        self.on_screen: StoredImage | None = None
        self.recently_shown: deque[str] = deque(maxlen=8)

    def wanted(self) -> int:
        return max(0, self.lookahead - len(self.ready) - self.in_flight)

    def started(self) -> None:
        self.in_flight += 1

    def finished(self, image: StoredImage | None) -> None:
        self.in_flight -= 1
        if image is not None:
            self.ready.append(image)

    def take_next(self) -> StoredImage | None:
        return self.ready.popleft() if self.ready else None

    def shown(self, image: StoredImage) -> None:
        self.on_screen = image
        self.recently_shown.append(image.key)


class Director:
    def __init__(
        self,
        generate: Callable[[], Awaitable[StoredImage]],
        show: ShowFn,
        store: ImageStore,
        *,
        every: float,
        lookahead: int,
        when_starved: str,
        rng: random.Random,
        retry_base: float = 1.0,
        retry_cap: float = 60.0,
        on_status: Callable[[str], None] | None = None,
    ) -> None:
        self._generate = generate
        self._on_status = on_status
        self._show = show
        self._store = store
        self._every = every
        self._when_starved = when_starved
        self._rng = rng
        # No jitter: one wall, one pacing loop; the network clients jitter their own reconnects.
        self._backoff = Backoff(base=retry_base, cap=retry_cap, jitter=0.0)
        self._streak = FailureStreak(log, "generation")
        self.rotation = Rotation(lookahead)
        self._scheduler: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._retry_pending = False
        self._stopping = False
        self._starving = False
        self._advancing: asyncio.Task[Any] | None = None  # a rotation in progress, finished before stopping

    async def start(self) -> None:
        """Start pacing inside the running loop and begin generating at once."""
        self._scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), timezone=timezone.utc)
        # A late rotation (a busy loop on a small machine) still happens, once (coalesce), rather than being
        # skipped with a warning.
        self._scheduler.add_job(
            self._advance, "interval", seconds=self._every, id="rotate", coalesce=True, max_instances=1,
            misfire_grace_time=None,
        )
        self._scheduler.start()
        replay = await asyncio.to_thread(self._store.pick_replay, self._rng)
        if replay is not None:
            # Something from the last run goes up at once, so a restart never shows a blank screen for long.
            await self._put_up(replay)
        self._top_up()

    async def stop(self) -> None:
        self._stopping = True
        running = self._scheduler is not None and self._scheduler.running
        if running:
            self._scheduler.pause()  # no new rotations; shutting down now would cancel the one in progress
        advancing = self._advancing
        if advancing is not None and advancing is not asyncio.current_task() and not advancing.done():
            # Let a rotation that is preparing its picture finish (a fraction of a second) instead of being
            # cancelled under the scheduler, which would log it as a crash.
            await asyncio.wait({advancing}, timeout=5)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if running:
            self._scheduler.shutdown(wait=False)

    async def _advance(self) -> None:
        if self._stopping:  # a rotation the scheduler queued just before it was shut down
            return
        self._advancing = asyncio.current_task()
        image = self.rotation.take_next()
        if image is None:
            image = await self._starved()
            self._starving = True
        else:
            self._starving = False
        if image is not None:
            await self._put_up(image)
        self._top_up()

    async def _starved(self) -> StoredImage | None:
        if self._when_starved != "replay":
            log.log(logging.DEBUG if self._starving else logging.INFO,
                    "no new picture ready; holding the current one until one is")
            return None
        on_screen = self.rotation.on_screen.key if self.rotation.on_screen is not None else None
        image = await asyncio.to_thread(
            self._store.pick_replay, self._rng, on_screen=on_screen, recent=set(self.rotation.recently_shown)
        )
        if image is not None:
            # Said once per starved stretch; every replay after that only at debug.
            log.log(logging.DEBUG if self._starving else logging.INFO,
                    "no new picture ready; replaying %s from the store", image.path.name)
        return image

    async def _put_up(self, image: StoredImage) -> None:
        if await self._show(image):
            self.rotation.shown(image)

    def _top_up(self) -> None:
        if self._stopping or self._retry_pending:
            return
        for _ in range(self.rotation.wanted()):
            self.rotation.started()
            task = asyncio.get_running_loop().create_task(self._generate_one())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _generate_one(self) -> None:
        image: StoredImage | None = None
        try:
            image = await self._generate()
        except asyncio.CancelledError:
            self.rotation.finished(None)
            raise
        except NotNew as exc:
            self._not_new(exc)
        except DreamWindowError as exc:
            self._failed(exc)
        except Exception:  # a bug must not stop the wall: log it with its traceback and carry on
            log.exception("generation crashed")
            self._failed(None)
        if image is None:
            self.rotation.finished(None)
            return
        self._streak.success()
        self._backoff.reset()
        first = self.rotation.on_screen is None
        self.rotation.finished(image)
        if first:
            # The very first picture goes up as soon as it exists, and the rotation clock restarts from it.
            await self._advance()
            self._restart_clock()
        else:
            self._top_up()

    def _failed(self, exc: BaseException | None) -> None:
        reason = exc if exc is not None else "internal error (see the traceback above)"
        self._streak.failure(reason)
        if self.rotation.on_screen is None and self._on_status is not None:
            self._on_status(f"no picture yet: {reason}")  # shown on the waiting screen, not on a picture
        if self._retry_pending or self._scheduler is None or self._stopping:
            return
        delay = self._backoff.next_delay()
        log.debug("next generation attempt in %.1f s", delay)
        self._schedule_retry(delay)

    def _not_new(self, exc: NotNew) -> None:
        """A picture we already have (a fixed seed, a cached graph): nothing to show, nothing wrong. Ask again
        after a pause so a playlist of fixed seeds cannot spin."""
        log.info("no new picture this time: %s", exc)
        self._schedule_retry(self._backoff.base)

    def _schedule_retry(self, delay: float) -> None:
        if self._retry_pending or self._scheduler is None or self._stopping:
            return
        self._retry_pending = True
        run_at = datetime.now(timezone.utc) + timedelta(seconds=delay)
        self._scheduler.add_job(self._retry, "date", run_date=run_at, id="retry", replace_existing=True)

    async def _retry(self) -> None:
        self._retry_pending = False
        self._top_up()

    def _restart_clock(self) -> None:
        if self._scheduler is not None and not self._stopping:
            next_run = datetime.now(timezone.utc) + timedelta(seconds=self._every)
            self._scheduler.modify_job("rotate", next_run_time=next_run)
