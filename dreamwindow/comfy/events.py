"""ComfyUI WebSocket messages as typed events (pure: no I/O, no asyncio).

Text frames are JSON ``{"type": ..., "data": ...}``; each known type has a small parser in ``_TEXT_PARSERS``
(a dispatch table, so adding a type is one entry, not another branch of a giant switch). Anything unknown or
malformed becomes :class:`Unknown` with the reason, never ``None`` and never an exception.

Binary frames start with a big-endian uint32 event type. They are never handed to a JSON parser:
type 1 = preview image (uint32 format 1 JPEG / 2 PNG, then the bytes); type 4 = preview with metadata (uint32
metadata length, JSON metadata naming prompt_id and node_id, then the bytes; only sent to a socket whose first
message was the ``feature_flags`` hello). Anything else is :class:`Unknown` with ``binary=True``.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any, Callable

FEATURE_FLAGS_HELLO = json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}})

BINARY_PREVIEW = 1
BINARY_PREVIEW_WITH_METADATA = 4
_IMAGE_FORMATS = {1: "jpeg", 2: "png"}


@dataclass(frozen=True)
class ImageRef:
    """Where an output image lives on the server (the arguments of ``GET /view``)."""

    filename: str
    subfolder: str = ""
    type: str = "output"


@dataclass(frozen=True)
class Status:
    queue_remaining: int | None
    sid: str | None = None


@dataclass(frozen=True)
class ExecutionStart:
    prompt_id: str


@dataclass(frozen=True)
class ExecutionCached:
    prompt_id: str
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class Executing:
    """``node=None`` with a prompt_id is the end of that prompt; no prompt_id happens after a reconnect."""

    node: str | None
    prompt_id: str | None


@dataclass(frozen=True)
class Progress:
    prompt_id: str | None
    node: str | None
    value: float
    max: float


@dataclass(frozen=True)
class ProgressState:
    prompt_id: str | None
    nodes: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Executed:
    prompt_id: str
    node: str
    images: tuple[ImageRef, ...]
    output: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ExecutionSuccess:
    prompt_id: str


@dataclass(frozen=True)
class ExecutionError:
    prompt_id: str
    node_id: str | None
    node_type: str | None
    exception_type: str | None
    message: str
    traceback: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExecutionInterrupted:
    prompt_id: str
    node_id: str | None
    node_type: str | None


@dataclass(frozen=True)
class FeatureFlags:
    flags: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Preview:
    """A preview image frame. ``prompt_id``/``node_id`` are known only for type-4 frames."""

    format: str  # "jpeg" or "png"
    data: bytes = field(repr=False)
    prompt_id: str | None = None
    node_id: str | None = None


@dataclass(frozen=True)
class Unknown:
    """A message we do not understand (new type, malformed data, unknown binary event). Kept, not dropped."""

    type: str
    reason: str = ""
    data: Any = field(default=None, repr=False, hash=False)
    binary: bool = False


Event = (
    Status | ExecutionStart | ExecutionCached | Executing | Progress | ProgressState | Executed
    | ExecutionSuccess | ExecutionError | ExecutionInterrupted | FeatureFlags | Preview | Unknown
)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _image_refs(output: dict[str, Any]) -> tuple[ImageRef, ...]:
    refs = []
    for item in output.get("images") or ():
        if isinstance(item, dict) and item.get("filename"):
            refs.append(ImageRef(str(item["filename"]), str(item.get("subfolder") or ""), str(item.get("type") or "output")))
    return tuple(refs)


def _status(d: dict[str, Any]) -> Event:
    remaining = ((d.get("status") or {}).get("exec_info") or {}).get("queue_remaining")
    return Status(int(remaining) if remaining is not None else None, _str_or_none(d.get("sid")))


def _executed(d: dict[str, Any]) -> Event:
    output = d.get("output") or {}
    return Executed(str(d["prompt_id"]), str(d["node"]), _image_refs(output), output)


def _execution_error(d: dict[str, Any]) -> Event:
    return ExecutionError(
        prompt_id=str(d["prompt_id"]),
        node_id=_str_or_none(d.get("node_id")),
        node_type=_str_or_none(d.get("node_type")),
        exception_type=_str_or_none(d.get("exception_type")),
        message=str(d.get("exception_message") or ""),
        traceback=tuple(str(line) for line in d.get("traceback") or ()),
    )


_TEXT_PARSERS: dict[str, Callable[[dict[str, Any]], Event]] = {
    "status": _status,
    "execution_start": lambda d: ExecutionStart(str(d["prompt_id"])),
    "execution_cached": lambda d: ExecutionCached(str(d["prompt_id"]), tuple(str(n) for n in d.get("nodes") or ())),
    "executing": lambda d: Executing(_str_or_none(d.get("node")), _str_or_none(d.get("prompt_id"))),
    "progress": lambda d: Progress(
        _str_or_none(d.get("prompt_id")), _str_or_none(d.get("node")), float(d["value"]), float(d["max"])
    ),
    "progress_state": lambda d: ProgressState(_str_or_none(d.get("prompt_id")), dict(d.get("nodes") or {})),
    "executed": _executed,
    "execution_success": lambda d: ExecutionSuccess(str(d["prompt_id"])),
    "execution_error": _execution_error,
    "execution_interrupted": lambda d: ExecutionInterrupted(
        str(d["prompt_id"]), _str_or_none(d.get("node_id")), _str_or_none(d.get("node_type"))
    ),
    "feature_flags": lambda d: FeatureFlags(dict(d)),
}


def parse_text(text: str) -> Event:
    """Parse one text frame. Never raises: anything unexpected is an :class:`Unknown` saying why."""
    try:
        msg = json.loads(text)
    except ValueError as exc:
        return Unknown("invalid_json", f"not JSON: {exc}", text[:200])
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        return Unknown("invalid_message", "not an object with a string 'type'", msg)
    kind, data = msg["type"], msg.get("data")
    parser = _TEXT_PARSERS.get(kind)
    if parser is None:
        return Unknown(kind, "unknown message type", data)
    if not isinstance(data, dict):
        return Unknown(kind, "'data' is not an object", data)
    try:
        return parser(data)
    except (KeyError, TypeError, ValueError) as exc:
        return Unknown(kind, f"malformed {kind}: {exc!r}", data)


def _preview(payload: bytes) -> Event:
    if len(payload) < 4:
        return Unknown("binary:1", "truncated preview frame", binary=True)
    (fmt,) = struct.unpack_from(">I", payload)
    return Preview(_IMAGE_FORMATS.get(fmt, f"unknown:{fmt}"), payload[4:])


def _preview_with_metadata(payload: bytes) -> Event:
    if len(payload) < 4:
        return Unknown("binary:4", "truncated metadata frame", binary=True)
    (meta_len,) = struct.unpack_from(">I", payload)
    if len(payload) < 4 + meta_len:
        return Unknown("binary:4", f"metadata length {meta_len} exceeds frame", binary=True)
    try:
        meta = json.loads(payload[4 : 4 + meta_len])
    except ValueError as exc:
        return Unknown("binary:4", f"metadata is not JSON: {exc}", binary=True)
    if not isinstance(meta, dict):
        return Unknown("binary:4", "metadata is not an object", binary=True)
    image_type = str(meta.get("image_type") or "image/jpeg")
    fmt = image_type.split("/", 1)[-1]
    return Preview(fmt, payload[4 + meta_len :], _str_or_none(meta.get("prompt_id")), _str_or_none(meta.get("node_id")))


_BINARY_PARSERS: dict[int, Callable[[bytes], Event]] = {
    BINARY_PREVIEW: _preview,
    BINARY_PREVIEW_WITH_METADATA: _preview_with_metadata,
}


def parse_binary(frame: bytes) -> Event:
    """Parse one binary frame by its 4-byte big-endian event type. Never raises."""
    if len(frame) < 4:
        return Unknown("binary", f"frame of {len(frame)} bytes has no event type", binary=True)
    (event_type,) = struct.unpack_from(">I", frame)
    parser = _BINARY_PARSERS.get(event_type)
    if parser is None:
        return Unknown(f"binary:{event_type}", "unknown binary event type", len(frame), binary=True)
    return parser(memoryview(frame)[4:].tobytes())


def encode_preview(data: bytes, fmt: str = "jpeg") -> bytes:
    """The type-1 frame for ``data`` (used by tests and the bench to build frames)."""
    code = {v: k for k, v in _IMAGE_FORMATS.items()}[fmt]
    return struct.pack(">II", BINARY_PREVIEW, code) + data


def encode_preview_with_metadata(data: bytes, metadata: dict[str, Any]) -> bytes:
    """The type-4 frame for ``data`` with ``metadata`` (prompt_id, node_id, image_type)."""
    meta = json.dumps(metadata).encode()
    return struct.pack(">II", BINARY_PREVIEW_WITH_METADATA, len(meta)) + meta + data
