"""Shared set-up for tests that run the client against the built-in engine over real sockets."""

from __future__ import annotations

import random
from typing import Any

import pytest

from dreamwindow.comfy.backoff import Backoff
from dreamwindow.comfy.client import Tuning

engine_server = pytest.importorskip("dreamwindow.engine.server", reason="the built-in engine's server is not there yet")
DreamEngine = engine_server.DreamEngine
from dreamwindow.engine.constants import ENGINE_CHECKPOINT  # noqa: E402
from dreamwindow.engine.state import EngineSettings  # noqa: E402


def fast_tuning() -> Tuning:
    """Failure paths in milliseconds instead of seconds."""
    return Tuning(heartbeat=1.0, stall_timeout=0.3, poll_interval=0.02, lost_grace=0.15, unavailable_after=0.4,
                  connect_timeout=2.0, history_attempts=20, history_delay=0.01, backoff=Backoff(base=0.01, cap=0.05))


def txt2img(seed: int | None = None, *, steps: int = 2, ckpt: str = ENGINE_CHECKPOINT, size: int = 64) -> dict[str, Any]:
    seed = random.randrange(2**32) if seed is None else seed
    return {
        "3": {"class_type": "KSampler", "inputs": {"seed": seed, "steps": steps, "cfg": 7.0, "sampler_name": "euler",
                                                  "scheduler": "normal", "denoise": 1.0, "model": ["4", 0],
                                                  "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": size, "height": size, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "misty forest at dawn", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "dwtest", "images": ["8", 0]}},
    }


async def start_engine(seconds_per_image: float = 0.0, **settings: Any) -> Any:
    engine = DreamEngine(EngineSettings(seconds_per_image=seconds_per_image, **settings))
    await engine.start("127.0.0.1", 0)
    return engine
