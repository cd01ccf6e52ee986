"""Fixtures for engine tests: a real engine on a real port, an aiohttp session, and a WebSocket connector."""

from __future__ import annotations

import aiohttp
import pytest

from dreamwindow.engine import DreamEngine, EngineSettings
from engine_helpers import Reader


@pytest.fixture
async def engine(tmp_path):
    eng = DreamEngine(EngineSettings(seconds_per_image=0.05), output_dir=tmp_path / "out")
    await eng.start("127.0.0.1", 0)
    yield eng
    await eng.stop()


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def connect(engine, session):
    sockets = []

    async def _connect(client_id: str | None = "dw-test", hello: bool = False) -> Reader:
        url = engine.url + "/ws" + (f"?clientId={client_id}" if client_id else "")
        ws = await session.ws_connect(url, max_msg_size=0)
        sockets.append(ws)
        if hello:
            await ws.send_json({"type": "feature_flags", "data": {"supports_preview_metadata": True}})
        reader = Reader(ws)
        first = await reader.next()
        assert first["type"] == "status"
        return reader

    yield _connect
    for ws in sockets:
        await ws.close()
