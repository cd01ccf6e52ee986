"""Ways to run the engine outside a test's event loop: the ``dreamwindow engine`` command and a thread helper."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from pathlib import Path

from dreamwindow.engine.server import DreamEngine
from dreamwindow.engine.state import EngineSettings

log = logging.getLogger(__name__)


def run_engine_cli(host: str, port: int, seconds_per_image: float) -> int:
    """Serve until Ctrl-C or SIGTERM; returns the exit status."""

    async def main() -> None:
        engine = DreamEngine(EngineSettings(seconds_per_image=seconds_per_image))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):      # not the main thread, or not POSIX
                pass
        url = await engine.start(host, port)
        log.info("DreamWindow dream engine ready at %s (ComfyUI API; %.2g s per picture)", url, seconds_per_image)
        try:
            await stop.wait()
        finally:
            await engine.stop()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    except OSError as ex:                                     # e.g. the port is taken
        log.error("dream engine could not start on %s:%s: %s", host, port, ex)
        return 1
    return 0


class EngineThread:
    """A DreamEngine on its own event loop in a background thread (for renderer tests, e2e and the demo)."""

    def __init__(self, settings: EngineSettings | None = None, *, output_dir: Path | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self._settings, self._output_dir, self._host, self._port = settings, output_dir, host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.engine: DreamEngine | None = None
        self.url = ""

    def start(self, timeout: float = 10.0) -> str:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self.engine = DreamEngine(self._settings, output_dir=self._output_dir)
                self.url = loop.run_until_complete(self.engine.start(self._host, self._port))
            except BaseException as ex:                       # report start failures to the caller
                failure.append(ex)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.engine.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="dream-engine", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("dream engine did not start")
        if failure:
            raise failure[0]
        return self.url

    def call(self, coro_factory, timeout: float = 10.0):
        """Run ``coro_factory(engine)`` on the engine's loop and return its result (e.g. lambda e: e.restart())."""
        assert self._loop is not None and self.engine is not None
        return asyncio.run_coroutine_threadsafe(coro_factory(self.engine), self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        self._loop = self._thread = None

    def __enter__(self) -> "EngineThread":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
