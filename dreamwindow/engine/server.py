"""DreamEngine: the built-in ComfyUI-compatible server (aiohttp) with its worker and fault injection.

Usage::

    engine = DreamEngine(EngineSettings(seconds_per_image=0.05))
    url = await engine.start("127.0.0.1", 0)     # "http://127.0.0.1:PORT"
    engine.faults.execution_errors = 1          # see dreamwindow.engine.faults
    await engine.restart()                      # same port, empty queue and history, sockets cut (1006)
    await engine.stop()                         # like a killed server

``stop()`` aborts every connection without a close frame (clients see close code 1006 / a reset), so tests
meet exactly what a crashed or restarted ComfyUI gives them.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import random
import shutil
import string
import sys
import tempfile
from pathlib import Path
from typing import Any, Coroutine

from aiohttp import web

from dreamwindow.engine.constants import ENGINE_VERSION
from dreamwindow.engine.executor import Executor
from dreamwindow.engine.faults import Faults
from dreamwindow.engine.hub import Hub
from dreamwindow.engine.nodedefs import node_definitions
from dreamwindow.engine.routes import Routes, path_key
from dreamwindow.engine.state import EngineSettings, History, PromptQueue

log = logging.getLogger(__name__)


class DreamEngine:
    def __init__(self, settings: EngineSettings | None = None, *, output_dir: Path | None = None) -> None:
        self.settings = settings or EngineSettings()
        self.faults = Faults()
        self._own_dir = tempfile.mkdtemp(prefix="dreamwindow-engine-")
        self.output_dir = Path(output_dir).resolve() if output_dir else Path(self._own_dir) / "output"
        self.temp_dir = Path(self._own_dir) / "temp"
        self.input_dir = Path(self._own_dir) / "input"
        for d in (self.output_dir, self.temp_dir, self.input_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.node_defs = node_definitions(self.settings.checkpoints, self.settings.steps_default)
        self.host, self.port = "127.0.0.1", 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._worker: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._fresh_state()

    def _fresh_state(self) -> None:
        """Everything a real ComfyUI keeps in memory only."""
        self.queue = PromptQueue()
        self.history = History(self.settings.history_max)
        self.hub = Hub(self)
        self.executor = Executor(self)
        self._number = 0
        self.temp_prefix = "ComfyUI_temp_" + "".join(random.choices(string.ascii_lowercase, k=5))
        shutil.rmtree(self.temp_dir, ignore_errors=True)      # the temp folder is wiped on start
        self.temp_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def next_number(self) -> int:
        number = self._number
        self._number += 1
        return number

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        """Run a background task and keep a reference, so it is neither collected nor forgotten at stop."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def settle(self) -> None:
        """Wait for background actions (a fault-triggered restart, a timed refusal) to finish."""
        current = asyncio.current_task()
        while pending := [t for t in self._tasks if t is not current and not t.done()]:
            await asyncio.wait(pending)

    @web.middleware
    async def _faults_mw(self, request: web.Request, handler: Any) -> web.StreamResponse:
        delay = self.faults.delay_for(path_key(request.path))
        if delay > 0:
            await asyncio.sleep(delay)
        return await handler(request)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self.host = host
        app = web.Application(middlewares=[self._faults_mw], client_max_size=64 * 1024 * 1024)
        Routes(self).install(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25, handle_signals=False)
        await self._runner.setup()
        await self._listen(port)
        self._worker = asyncio.get_running_loop().create_task(self.executor.run_forever())
        log.info("dream engine listening on %s", self.url)
        return self.url

    async def _listen(self, port: int) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, self.host, port, reuse_address=True)
        await self._site.start()
        server = self._site._server
        if port == 0 and server is not None and server.sockets:   # type: ignore[union-attr]
            port = server.sockets[0].getsockname()[1]            # type: ignore[union-attr]
        self.port = port

    async def stop(self) -> None:
        """Stop like a killed server: sockets cut (1006), running prompt and queue gone."""
        await self._shutdown()
        shutil.rmtree(self._own_dir, ignore_errors=True)
        log.info("dream engine on port %s stopped", self.port)

    def _cut_connections(self) -> None:
        """Abort every open connection (HTTP keep-alive included), as a dead process would."""
        self.hub.drop_all()
        server = self._runner.server if self._runner is not None else None
        for proto in (server.connections if server is not None else []):
            if proto.transport is not None:
                proto.transport.abort()

    async def _shutdown(self) -> None:
        self._cut_connections()
        current = asyncio.current_task()
        for task in [self._worker, *self._tasks]:
            if task is not None and task is not current and not task.done():
                task.cancel()
        for task in [self._worker, *self._tasks]:
            if task is not None and task is not current:
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        self._worker = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._site = None

    async def restart(self) -> None:
        """Same port, empty queue and history, every connection cut: a crash followed by a quick restart."""
        log.info("dream engine on port %s restarting", self.port)
        await self._shutdown()
        self._fresh_state()
        await self.start(self.host, self.port)

    async def refuse_for(self, seconds: float) -> None:
        """Stop listening (connections are refused) for a while, keeping the state; sockets are cut."""
        if self._site is None:
            return
        await self._site.stop()
        self._site = None
        self._cut_connections()
        try:
            await asyncio.sleep(seconds)
        finally:
            if self._runner is not None:
                await self._listen(self.port)

    async def stop_listening(self) -> None:
        """Refuse new connections until resume_listening(); open WebSockets are cut (1006)."""
        if self._site is not None:
            await self._site.stop()
            self._site = None
            self._cut_connections()

    async def resume_listening(self) -> None:
        if self._site is None and self._runner is not None:
            await self._listen(self.port)

    def system_stats(self) -> dict[str, Any]:
        return {
            "system": {"os": "posix" if sys.platform != "win32" else "nt", "ram_total": 0, "ram_free": 0,
                       "comfyui_version": ENGINE_VERSION, "required_frontend_version": "",
                       "python_version": sys.version, "pytorch_version": "none (dream engine)",
                       "embedded_python": False, "argv": ["dreamwindow", "engine"],
                       "platform": platform.platform()},
            "devices": [{"name": "dream", "type": "cpu", "index": None, "vram_total": 0, "vram_free": 0,
                         "torch_vram_total": 0, "torch_vram_free": 0}],
        }
