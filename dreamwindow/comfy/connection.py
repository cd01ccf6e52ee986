"""The one long-lived WebSocket to a ComfyUI server, with reconnects.

- ``/ws?clientId=<id>`` with the same id for the life of the client, so messages of prompts queued before a
  reconnect still reach us. The old socket is always closed before a new one opens: the server silently
  orphans a socket when a second one connects with the same id (it stays open and receives nothing).
- The ``feature_flags`` hello is the first thing sent, so previews arrive as type-4 frames naming their prompt.
- The socket counts as connected only once the first ``status`` arrived.
- ``max_msg_size`` is large: full-size images can arrive as frames and must not close the socket.
- After a drop: capped exponential backoff with jitter; ``on_connected`` runs after every (re)connect so the
  client can catch up on jobs whose messages were lost while away.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from typing import Awaitable, Callable

import aiohttp

from dreamwindow.comfy.backoff import Backoff, FailureStreak
from dreamwindow.comfy.events import FEATURE_FLAGS_HELLO, Event, Status, parse_binary, parse_text
from dreamwindow.comfy.http import Http
from dreamwindow.errors import Unavailable

log = logging.getLogger(__name__)

MAX_MSG_SIZE = 64 * 1024 * 1024


class ConnectionState(enum.Enum):
    IDLE = "idle"  # never started
    CONNECTING = "connecting"  # first connect in progress
    CONNECTED = "connected"  # socket open and first status received
    RECONNECTING = "reconnecting"  # socket lost; retrying with backoff
    CLOSED = "closed"  # close() was called


class WsConnection:
    def __init__(
        self,
        http: Http,
        client_id: str,
        *,
        on_event: Callable[[Event], None],
        on_connected: Callable[[], Awaitable[None]],
        on_state: Callable[[ConnectionState], None] | None = None,
        heartbeat: float | None = 10.0,
        connect_timeout: float = 10.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.http = http
        self.client_id = client_id
        self._on_event = on_event
        self._on_connected = on_connected
        self._on_state = on_state
        self.heartbeat = heartbeat
        self.connect_timeout = connect_timeout
        self.backoff = backoff or Backoff(base=0.5, cap=30.0)
        self.state = ConnectionState.IDLE
        self.last_message_at = time.monotonic()
        self.disconnected_at: float | None = None
        self.connects = 0
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None
        self._streak = FailureStreak(log, f"WebSocket to {http.server}")

    def _set_state(self, state: ConnectionState) -> None:
        if state is not self.state:
            log.debug("%s: %s -> %s", self.http.server, self.state.value, state.value)
            self.state = state
            if self._on_state:
                self._on_state(state)

    async def start(self) -> None:
        """Connect once and start the reader; raises Unavailable if the first connect fails."""
        if self._task is not None:
            return
        self._set_state(ConnectionState.CONNECTING)
        try:
            self._ws = await self._connect()
        except Unavailable:
            self._set_state(ConnectionState.IDLE)
            raise
        self._set_state(ConnectionState.CONNECTED)
        self._task = asyncio.create_task(self._run(), name=f"comfy-ws-{self.http.server}")

    async def close(self) -> None:
        self._set_state(ConnectionState.CLOSED)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._close_ws()

    async def force_reconnect(self) -> None:
        """Drop the socket (e.g. it went deaf); the reader loop reconnects."""
        await self._close_ws()

    async def _close_ws(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            try:
                async with asyncio.timeout(1.0):
                    await ws.close()
            except (TimeoutError, aiohttp.ClientError, OSError):
                pass

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        await self._close_ws()  # never two sockets with one clientId
        url = f"{self.http.base_url}/ws"
        ws = None
        try:
            async with asyncio.timeout(self.connect_timeout):
                ws = await self.http.session.ws_connect(
                    url, params={"clientId": self.client_id}, headers=self.http.headers,
                    heartbeat=self.heartbeat, max_msg_size=MAX_MSG_SIZE, autoping=True,
                )
                await ws.send_str(FEATURE_FLAGS_HELLO)
                while True:  # wait for the first status: only then is the socket registered server-side
                    msg = await ws.receive()
                    if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                        raise ConnectionError(f"socket ended before the first status ({msg.type.name})")
                    event = self._dispatch(msg)
                    if isinstance(event, Status):
                        break
        except (TimeoutError, aiohttp.ClientError, OSError, ConnectionError) as exc:
            if ws is not None:
                await ws.close()
            text = "no first status" if isinstance(exc, TimeoutError) else f"{exc.__class__.__name__}: {exc}"
            raise Unavailable(f"WebSocket {url}: {text}", server=self.http.server) from exc
        self.connects += 1
        self.disconnected_at = None
        return ws

    def _dispatch(self, msg: aiohttp.WSMessage) -> Event:
        self.last_message_at = time.monotonic()
        if msg.type is aiohttp.WSMsgType.BINARY:
            event = parse_binary(msg.data)
        else:
            event = parse_text(msg.data)
        self._on_event(event)
        return event

    async def _run(self) -> None:
        while self.state is not ConnectionState.CLOSED:
            ws = self._ws
            if ws is not None:
                await self._read(ws)
            if self.state is ConnectionState.CLOSED:
                return
            self.disconnected_at = self.disconnected_at or time.monotonic()
            self._set_state(ConnectionState.RECONNECTING)
            await self._reconnect()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                self._dispatch(msg)
            elif msg.type is aiohttp.WSMsgType.ERROR:
                break
        if self.state is not ConnectionState.CLOSED:
            self._streak.failure(f"socket ended (close code {ws.close_code}, {ws.exception()!r})")

    async def _reconnect(self) -> None:
        while self.state is not ConnectionState.CLOSED:
            await asyncio.sleep(self.backoff.next_delay())
            try:
                self._ws = await self._connect()
            except Unavailable as exc:
                self._streak.failure(exc)
                continue
            self.backoff.reset()
            self._streak.success()
            self._set_state(ConnectionState.CONNECTED)
            try:
                await self._on_connected()
            except Exception:  # catching up must never kill the reader
                log.exception("%s: catching up after reconnect failed", self.http.server)
            return
