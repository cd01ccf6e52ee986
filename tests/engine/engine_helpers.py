"""Helpers for engine tests: graphs, a WebSocket reader, and POST /prompt."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from dreamwindow.engine import ENGINE_CHECKPOINT


def txt2img(text: str = "a dream window, misty forest", seed: int = 1, steps: int = 3,
            size: tuple[int, int] = (256, 256), prefix: str = "dw_t2i") -> dict[str, Any]:
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ENGINE_CHECKPOINT}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": size[0], "height": size[1], "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"seed": seed, "steps": steps, "cfg": 7.0, "sampler_name": "euler",
                                                   "scheduler": "normal", "denoise": 1.0, "model": ["4", 0],
                                                   "positive": ["6", 0], "negative": ["7", 0],
                                                   "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": prefix, "images": ["8", 0]}},
    }


def simple(prefix: str = "dw_simple", color: int = 3368652) -> dict[str, Any]:
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": color}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"filename_prefix": prefix, "images": ["2", 0]}},
    }


class Reader:
    """Reads one socket; text messages decoded, binary frames kept as bytes, in arrival order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.log: list[Any] = []

    async def next(self, timeout: float = 5.0) -> Any:
        msg = await asyncio.wait_for(self.ws.receive(), timeout)
        if msg.type == aiohttp.WSMsgType.TEXT:
            item: Any = json.loads(msg.data)
        elif msg.type == aiohttp.WSMsgType.BINARY:
            item = bytes(msg.data)
        else:
            item = ("closed", msg.type, self.ws.close_code)
        self.log.append(item)
        return item

    async def until(self, pred, timeout: float = 10.0) -> list[Any]:
        """Messages up to and including the first one matching pred."""
        start = len(self.log)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            item = await self.next(max(0.01, deadline - loop.time()))
            if pred(item):
                return self.log[start:]
            if isinstance(item, tuple):
                raise AssertionError(f"socket ended: {item}")

    async def done(self, prompt_id: str, timeout: float = 10.0) -> list[Any]:
        return await self.until(lambda m: isinstance(m, dict) and m["type"] == "executing"
                                and m["data"].get("node") is None and m["data"].get("prompt_id") == prompt_id, timeout)


def types(messages: list[Any]) -> list[str]:
    return [m["type"] if isinstance(m, dict) else "binary" for m in messages if not isinstance(m, tuple)]


async def post_prompt(session, engine, graph, **extra) -> tuple[int, Any]:
    async with session.post(engine.url + "/prompt", json={"prompt": graph, **extra}) as r:
        body = await r.json() if r.content_type == "application/json" else await r.text()
        return r.status, body
