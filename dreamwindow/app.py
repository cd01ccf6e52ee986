"""Wiring and lifecycle: build the parts from the config, start them in order, stop them in reverse.

Threads: the pygame renderer owns the main thread (SDL wants it, and frame pacing stays independent of network
hiccups); one asyncio loop in a second thread does all network, scheduling and file work. They meet only at the
renderer's thread-safe frame queue and at ``request_stop``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dreamwindow.errors import DreamWindowError
from dreamwindow.sdnotify import Notifier
from dreamwindow.store import ImageStore, StoredImage

log = logging.getLogger(__name__)


def headless_needed(forced: bool) -> tuple[bool, str]:
    """Whether to run without a screen, and why. SDL falls back to an off-screen driver when no display
    exists; drawing there costs CPU for nothing, so that counts as no display."""
    if forced:
        return True, "--headless given"
    if os.environ.get("SDL_VIDEODRIVER") in ("dummy", "offscreen"):
        return True, f"SDL_VIDEODRIVER={os.environ['SDL_VIDEODRIVER']}"
    import pygame

    # Without a desktop session the only real screen is a KMS/DRM console (a Pi without X). Asking for it
    # directly spares SDL's Wayland probe, which prints an alarming XDG_RUNTIME_DIR error into the journal.
    console_only = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or
                        os.environ.get("SDL_VIDEODRIVER"))
    if console_only:
        os.environ["SDL_VIDEODRIVER"] = "kmsdrm"
    try:
        pygame.display.init()
        driver = pygame.display.get_driver()
    except pygame.error as exc:
        if console_only:
            del os.environ["SDL_VIDEODRIVER"]
            return True, "no DISPLAY or WAYLAND_DISPLAY and no KMS/DRM console"
        return True, f"no display available ({exc})"
    finally:
        pygame.display.quit()
    if driver in ("offscreen", "dummy"):
        return True, f"no display found (SDL could only offer its {driver!r} driver)"
    return False, f"display driver {driver!r}"


@dataclass
class RunOptions:
    headless: bool = False
    duration: float | None = None
    snapshot_dir: Path | None = None
    keep_snapshots: int = 200
    on_frame: Callable[..., None] | None = None
    engine: Any = None  # EngineSettings: start the built-in engine in-process and use it as the only backend
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class App:
    def __init__(self, config: Any, options: RunOptions) -> None:
        self.config = config
        self.options = options
        self.exit_code = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._renderer: Any = None
        self._notifier = Notifier()
        self._rng = random.Random(options.seed)
        self.engine: Any = None
        self.director: Any = None
        self._catalog: Any = None
        self.store: ImageStore | None = None
        self.loop_ready = threading.Event()

    # ---- main thread -------------------------------------------------------------------------------------
    def run(self) -> int:
        from dreamwindow.display.renderer import Renderer

        opts = self.options
        self._renderer = Renderer(
            self.config.display, headless=opts.headless, snapshot_dir=opts.snapshot_dir, on_frame=opts.on_frame
        )
        previous = self._install_signals()
        try:
            size = self._renderer.open()
        except BaseException:
            self._restore_signals(previous)
            raise
        log.info("screen %dx%d%s", size[0], size[1], " (headless)" if opts.headless else "")
        loop_thread = threading.Thread(target=self._loop_main, name="dreamwindow-loop", daemon=True)
        loop_thread.start()
        try:
            self._renderer.run(on_quit=self.request_stop)
        finally:
            self.request_stop()
            loop_thread.join(timeout=30)
            if loop_thread.is_alive():
                log.error("the network thread did not stop within 30 s")
                self.exit_code = self.exit_code or 1
            self._renderer.close()
            self._restore_signals(previous)
        return self.exit_code

    def request_stop(self) -> None:
        """Thread-safe and idempotent: stop everything."""
        if self._renderer is not None:
            self._renderer.request_stop()
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)

    def _install_signals(self) -> dict[int, Any]:
        previous: dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return previous

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("received %s, stopping", signal.Signals(signum).name)
            self.request_stop()

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)
        if hasattr(signal, "SIGHUP"):
            previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda *_: self._on_sighup())
        return previous

    @staticmethod
    def _restore_signals(previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def _on_sighup(self) -> None:
        log.info("SIGHUP: re-reading playlists")
        if self._loop is not None and self._catalog is not None:
            self._loop.call_soon_threadsafe(self._catalog.refresh)

    # ---- network thread ----------------------------------------------------------------------------------
    def _loop_main(self) -> None:
        try:
            asyncio.run(self._amain())
        except Exception:
            log.exception("the network thread crashed")
            self.exit_code = 1
        finally:
            if self._renderer is not None:
                self._renderer.request_stop()

    async def _amain(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.loop_ready.set()
        async with contextlib.AsyncExitStack() as stack:
            try:
                await self._start(stack)
            except DreamWindowError as exc:
                log.error("cannot start: %s", exc)
                self.exit_code = 2
                return
            self._notifier.ready("showing dreams")
            if self.options.duration is not None:
                self._loop.call_later(self.options.duration, self._stop.set)
            watchdog = None
            if self._notifier.watchdog_interval:
                watchdog = asyncio.create_task(self._watchdog(self._notifier.watchdog_interval))
            await self._stop.wait()
            log.info("stopping")
            self._notifier.stopping()
            if watchdog is not None:
                watchdog.cancel()

    async def _start(self, stack: contextlib.AsyncExitStack) -> None:
        from dreamwindow.catalog import Catalog
        from dreamwindow.comfy.pool import BackendPool
        from dreamwindow.director import Director
        from dreamwindow.generator import Generator

        config = self.config
        if self.options.engine is not None:
            config = await self._start_engine(stack)
        self.store = ImageStore(config.store.dir, config.store.keep)
        await asyncio.to_thread(self.store.open)
        log.info("pictures are kept in %s (newest %d)", self.store.directory, config.store.keep)
        self._catalog = Catalog(list(config.playlists), rng=self._rng)
        self._catalog.load()
        servers = ", ".join(b.url for b in config.comfyui.backends)
        self._renderer.set_status(f"connecting to ComfyUI at {servers}…")
        pool = BackendPool(list(config.comfyui.backends), request_timeout=config.comfyui.request_timeout)
        await pool.start()
        stack.push_async_callback(pool.close)
        up = any(backend.usable() for backend in pool.backends)
        self._renderer.set_status("painting the first dream…" if up else
                                  f"waiting for ComfyUI at {servers} (not reachable yet)")
        generator = Generator(
            pool, self.store, self._catalog, timeout=config.comfyui.timeout, rng=self._rng,
            default_checkpoint=config.comfyui.checkpoint,
        )
        self.director = Director(
            generator.generate,
            self._show,
            self.store,
            every=config.rotation.every,
            lookahead=config.rotation.lookahead,
            when_starved=config.rotation.when_starved,
            rng=self._rng,
            on_status=self._renderer.set_status,
        )
        await self.director.start()
        stack.push_async_callback(self.director.stop)

    async def _start_engine(self, stack: contextlib.AsyncExitStack) -> Any:
        from dreamwindow.engine import DreamEngine

        self.engine = DreamEngine(self.options.engine)
        url = await self.engine.start("127.0.0.1", 0)
        stack.push_async_callback(self.engine.stop)
        log.info("built-in dream engine listening on %s", url)
        comfy = self.config.comfyui
        backend = comfy.backends[0].model_copy(update={"url": url})
        return self.config.model_copy(update={"comfyui": comfy.model_copy(update={"backends": [backend]})})

    async def _show(self, image: StoredImage) -> bool:
        from dreamwindow.display.renderer import Frame
        from dreamwindow.imaging import prepare

        display = self.config.display
        try:
            prepared = await asyncio.to_thread(
                prepare, image.path, self._renderer.size, display.fit, display.rotate
            )
        except DreamWindowError as exc:  # the file is there but is no picture: keep it out of replays
            if self.store is not None:
                await asyncio.to_thread(self.store.quarantine, image, str(exc))
            return False
        except OSError as exc:
            log.error("cannot show %s: %s", image.path.name, exc)
            return False
        prompt = image.meta.get("prompt")
        caption = str(prompt) if display.caption and prompt not in (None, "") else None
        self._renderer.submit(Frame(image=prepared, caption=caption, key=image.key))
        if self.options.snapshot_dir is not None:
            await asyncio.to_thread(_prune_snapshots, self.options.snapshot_dir, self.options.keep_snapshots)
        return True

    async def _watchdog(self, interval: float) -> None:
        """Ping systemd while both threads are alive: this loop, and the render loop's heartbeat."""
        while True:
            stalled = time.monotonic() - self._renderer.last_tick
            if stalled < 2 * interval:
                self._notifier.watchdog()
            else:
                log.error("the render loop has not ticked for %.0f s; letting the systemd watchdog restart us", stalled)
            await asyncio.sleep(interval)


def _prune_snapshots(directory: Path, keep: int) -> None:
    shots = sorted(directory.glob("snapshot-*.png"))
    for old in shots[: max(0, len(shots) - keep)]:
        old.unlink(missing_ok=True)
