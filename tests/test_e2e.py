"""End to end: daemon + built-in engine + real renderer (SDL dummy driver), pixels read back from the screen."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pygame
import pytest

from dreamwindow.app import App, RunOptions
from dreamwindow.config import load_config
from dreamwindow.engine import EngineSettings

W, H = 320, 180


def write_config(tmp_path: Path, repo_root: Path, *, every: str = "1s", fade: str = "0.6s") -> Path:
    playlists = repo_root / "playlists"
    cfg = tmp_path / "e2e.yaml"
    cfg.write_text(
        f"""
comfyui:
  backends:
    - url: http://127.0.0.1:9   # replaced by the in-process engine's address
  checkpoint: dreamwindow-dream.safetensors
  timeout: 30s
display:
  fullscreen: false
  size: [{W}, {H}]
  fit: cover
  transition: {{seconds: {fade}, easing: smoothstep}}
  fps: 30
rotation:
  every: {every}
  lookahead: 2
  when_starved: hold
store:
  dir: {tmp_path / 'store'}
  keep: 50
playlists:
  - {playlists}
"""
    )
    return cfg


@dataclass
class ScreenLog:
    """What reached the screen: the settled picture per key, and frames caught mid-crossfade."""

    finals: dict[str, bytes] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    mids: list[tuple[float, str, str, bytes]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    want: int = 3

    def on_frame(self, surface: pygame.Surface, state) -> None:  # noqa: ANN001
        pixels = pygame.image.tobytes(surface, "RGB")
        if state.t >= 1.0 and state.to_key is not None:
            if state.to_key not in self.finals:
                self.finals[state.to_key] = pixels
                self.order.append(state.to_key)
        elif 0.25 < state.alpha < 0.75 and state.from_key in self.finals:
            self.mids.append((state.alpha, state.from_key, state.to_key, pixels))
        if len(self.finals) >= self.want and any(m[2] in self.finals for m in self.mids):
            self.done.set()


def test_daemon_engine_and_renderer_show_changing_pictures(tmp_path: Path, repo_root: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(write_config(tmp_path, repo_root))
    # As under systemd: the daemon reports READY and pings the watchdog.
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(30)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    screen = ScreenLog(want=3)
    app = App(config, RunOptions(headless=True, duration=60, on_frame=screen.on_frame, seed=1,
                                 engine=EngineSettings(seconds_per_image=0.2)))
    # Stop as soon as enough was seen; --duration is only the safety net.
    watcher = threading.Thread(target=lambda: screen.done.wait(60) and app.request_stop(), daemon=True)
    watcher.start()
    assert app.run() == 0
    messages = []
    notify.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        while True:
            messages.append(notify.recv(1024))
    notify.close()
    assert messages[0].startswith(b"READY=1") and b"WATCHDOG=1" in messages and messages[-1] == b"STOPPING=1"
    assert screen.done.is_set(), f"only {len(screen.finals)} pictures and {len(screen.mids)} mid-fade frames seen"

    # At least three different pictures reached the screen.
    digests = {hashlib.sha256(screen.finals[k]).hexdigest() for k in screen.order}
    assert len(digests) >= 3

    # A frame in the middle of a crossfade is the eased blend of the two settled pictures around it.
    alpha, from_key, to_key, mid = next(m for m in screen.mids if m[2] in screen.finals)
    a, b = screen.finals[from_key], screen.finals[to_key]
    checked = 0
    for i in range(0, len(mid), 3 * 97):  # a spread of sample pixels
        expected = a[i] * (1 - alpha) + b[i] * alpha
        assert abs(mid[i] - expected) <= 3, (i, a[i], b[i], mid[i], alpha)
        if abs(a[i] - b[i]) > 40:
            checked += 1
    assert checked > 20, "the two pictures should differ in many sampled pixels"
    assert mid != a and mid != b

    # Every picture on screen came from the store, with its sidecar.
    stored = sorted((tmp_path / "store").glob("*.json"))
    assert len(stored) >= 3

