"""The WebSocket side of the engine: the clientId table, message routing and binary preview framing.

Routing follows the real server: a prompt's messages go only to the socket registered under its client_id
(nobody gets them when the prompt has none), ``status`` goes to every socket in the table, and a second
socket with the same clientId takes over the table entry, leaving the first open but deaf.
"""

from __future__ import annotations

import json
import logging
import struct
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from dreamwindow.engine.server import DreamEngine

log = logging.getLogger(__name__)

PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
FEATURES = {"supports_preview_metadata": True, "max_upload_size": 104857600}


@dataclass(eq=False)
class Conn:
    ws: web.WebSocketResponse
    request: web.Request
    sid: str
    metadata_previews: bool = False     # the socket said feature_flags first: type-4 frames
    meta: dict[str, Any] = field(default_factory=dict)

    def abort(self) -> None:
        """End the connection like a dead server: no close frame, the client sees 1006."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class Hub:
    def __init__(self, engine: "DreamEngine") -> None:
        self.engine = engine
        self.table: dict[str, Conn] = {}
        self.conns: set[Conn] = set()

    async def _send(self, conn: Conn, data: str | bytes) -> None:
        if self.engine.faults.ws_silent or conn.ws.closed:
            return
        try:
            if isinstance(data, bytes):
                await conn.ws.send_bytes(data)
            else:
                await conn.ws.send_str(data)
        except (ConnectionError, RuntimeError) as ex:      # the peer went away mid-send: like ComfyUI, ignore
            log.debug("send to %s failed: %s", conn.sid, ex)

    async def send(self, kind: str, data: dict[str, Any], sid: str | None) -> None:
        """To one client (``sid``) or, with ``sid=None``, to every socket in the table."""
        text = json.dumps({"type": kind, "data": data})
        if sid is None:
            for conn in list(self.table.values()):
                await self._send(conn, text)
        elif (conn := self.table.get(sid)) is not None:
            await self._send(conn, text)

    async def status(self) -> None:
        await self.send("status", {"status": {"exec_info": {"queue_remaining": self.engine.queue.remaining()}}}, None)

    def metadata_client(self, sid: str | None) -> bool:
        conn = self.table.get(sid) if sid else None
        return bool(conn and conn.metadata_previews)

    async def preview(self, sid: str | None, image: bytes, png: bool, prompt_id: str, node_id: str) -> None:
        conn = self.table.get(sid) if sid else None
        if conn is None:
            return
        if conn.metadata_previews:
            meta = json.dumps({"node_id": node_id, "prompt_id": prompt_id, "display_node_id": node_id,
                               "parent_node_id": None, "real_node_id": node_id,
                               "image_type": "image/png" if png else "image/jpeg"}).encode()
            frame = struct.pack(">II", PREVIEW_IMAGE_WITH_METADATA, len(meta)) + meta + image
        else:
            frame = struct.pack(">II", PREVIEW_IMAGE, 2 if png else 1) + image
        await self._send(conn, frame)

    def drop_all(self) -> None:
        for conn in list(self.conns):
            conn.abort()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        sid = request.query.get("clientId") or uuid.uuid4().hex
        conn = Conn(ws, request, sid)
        self.table[sid] = conn
        self.conns.add(conn)
        engine = self.engine
        try:
            await self._send(conn, json.dumps({"type": "status", "data": {
                "status": {"exec_info": {"queue_remaining": engine.queue.remaining()}}, "sid": sid}}))
            running = engine.queue.running
            current = engine.executor.current_node
            if running is not None and running.client_id == sid and current is not None:
                # A client back mid-prompt learns which node runs, without prompt_id (as the real server does).
                await self._send(conn, json.dumps({"type": "executing", "data": {"node": current}}))
            first = True
            async for msg in ws:
                if msg.type == WSMsgType.TEXT and first:
                    try:
                        hello = json.loads(msg.data)
                    except ValueError:
                        hello = None
                    if isinstance(hello, dict) and hello.get("type") == "feature_flags":
                        conn.metadata_previews = bool((hello.get("data") or {}).get("supports_preview_metadata"))
                        await self._send(conn, json.dumps({"type": "feature_flags", "data": FEATURES}))
                first = False
        finally:
            if self.table.get(sid) is conn:
                del self.table[sid]
            self.conns.discard(conn)
        return ws
