"""``GET /view``: serves output, temp and input files with the real server's checks and answers.

Traces: missing file, wrong type folder or no ``filename`` -> 404 (empty); ``..``, a leading ``/`` or an empty
filename -> 400; escaping through ``subfolder`` -> 403; unknown ``type`` -> 400; ``"name.png [output]"`` is
accepted; ``preview=jpeg;80`` / ``preview=webp`` re-encode; ``channel=rgb|a`` split the alpha; HEAD works.
"""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from PIL import Image

if TYPE_CHECKING:
    from dreamwindow.engine.server import DreamEngine

CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def _reencode(path: Path, preview: str | None, channel: str | None) -> tuple[bytes, str]:
    img = Image.open(path)
    img.load()
    buf = io.BytesIO()
    if preview:
        fmt, _, quality = preview.partition(";")
        fmt = "webp" if fmt.lower() == "webp" else "jpeg"
        img.convert("RGB").save(buf, fmt.upper(), quality=int(quality) if quality.isdigit() else 90)
        return buf.getvalue(), f"image/{fmt}"
    if channel == "rgb":
        img.convert("RGB").save(buf, "PNG")
    else:                                   # channel=a: the alpha (opaque if there is none), as an RGBA picture
        alpha = img.getchannel("A") if "A" in img.getbands() else Image.new("L", img.size, 255)
        out = Image.new("RGBA", img.size, (0, 0, 0, 0))
        out.putalpha(alpha)
        out.save(buf, "PNG")
    return buf.getvalue(), "image/png"


def _empty(status: int) -> web.Response:
    return web.Response(status=status)


async def view(engine: "DreamEngine", request: web.Request) -> web.StreamResponse:
    q = request.query
    if "filename" not in q:
        return _empty(404)
    filename, kind = q["filename"], q.get("type", "output")
    if filename.endswith("]") and " [" in filename:         # "name.png [output]" names its folder
        filename, _, kind = filename[:-1].rpartition(" [")
    if not filename or filename.startswith("/") or ".." in filename:
        return _empty(400)
    roots = {"output": engine.output_dir, "temp": engine.temp_dir, "input": engine.input_dir}
    if kind not in roots:
        return _empty(400)
    root = os.path.abspath(roots[kind])
    folder = os.path.abspath(os.path.join(root, q.get("subfolder", "")))
    if os.path.commonpath((root, folder)) != root:
        return _empty(403)
    path = Path(folder) / os.path.basename(filename)
    try:
        exists = path.is_file()
    except (ValueError, OSError):                  # e.g. a NUL byte in the name
        exists = False
    if not exists:
        return _empty(404)
    faults = engine.faults
    if faults.take("view_not_found"):
        return _empty(404)
    preview, channel = q.get("preview"), q.get("channel")
    if preview or channel in ("rgb", "a"):
        body, ctype = await asyncio.to_thread(_reencode, path, preview, channel)
    else:
        body = await asyncio.to_thread(path.read_bytes)
        ctype = CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
    if faults.take("view_corrupt"):
        # Looks like a PNG from the outside, decodes to nothing: what a truncated transfer or bad disk gives.
        body = body[:16] + bytes((b * 7 + 13) & 255 for b in body[16:])
    return web.Response(body=body, content_type=ctype,
                        headers={"Content-Disposition": f'filename="{path.name}"'})
