"""Shared test set-up: SDL runs headless, the recorded ComfyUI traces are found beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before anything imports pygame: the real renderer runs under SDL's dummy driver in tests.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

REPO_ROOT = Path(__file__).resolve().parent.parent
TRACES_DIR = (REPO_ROOT.parent / "shared" / "comfyui-traces").resolve()


@pytest.fixture(scope="session")
def traces_dir() -> Path:
    if not TRACES_DIR.is_dir():
        pytest.skip(f"recorded ComfyUI traces not found at {TRACES_DIR}")
    return TRACES_DIR


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT
