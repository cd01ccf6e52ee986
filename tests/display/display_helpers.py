"""Helpers for the display tests (imported by name: tests/display is on sys.path under pytest's prepend mode)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from dreamwindow.display.renderer import Frame, Renderer, RenderState  # noqa: E402
from dreamwindow.imaging import PreparedImage  # noqa: E402

try:  # the real config models when the config module is present; same fields either way
    from dreamwindow.config import DisplayConfig, TransitionConfig
except ImportError:  # pragma: no cover - only before the config module lands
    DisplayConfig = TransitionConfig = None  # type: ignore[assignment,misc]


@dataclass(frozen=True)
class _Transition:
    seconds: float = 4.0
    easing: str = "smoothstep"


@dataclass(frozen=True)
class _Display:
    fullscreen: bool = False
    size: tuple[int, int] = (64, 48)
    rotate: int = 0
    fit: str = "cover"
    transition: _Transition = field(default_factory=_Transition)
    caption: bool = False
    fps: int = 30


def make_display(*, seconds: float = 4.0, easing: str = "smoothstep", **kw: Any) -> Any:
    kw.setdefault("fullscreen", False)
    kw.setdefault("size", (64, 48))
    if DisplayConfig is not None:
        return DisplayConfig(transition=TransitionConfig(seconds=seconds, easing=easing), **kw)
    return _Display(transition=_Transition(seconds, easing), **kw)


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def solid(size: tuple[int, int], rgb: tuple[int, int, int]) -> PreparedImage:
    return PreparedImage(size, bytes(rgb) * (size[0] * size[1]))


def frame(image: PreparedImage, key: str, caption: str | None = None) -> Frame:
    return Frame(image=image, caption=caption, key=key)


def pixel(surface: pygame.Surface, xy: tuple[int, int]) -> tuple[int, int, int]:
    return tuple(surface.get_at(xy))[:3]  # type: ignore[return-value]


def screen_rgb(surface: pygame.Surface) -> bytes:
    return pygame.image.tobytes(surface, "RGB")


@dataclass
class Harness:
    renderer: Renderer
    clock: FakeClock
    states: list[RenderState]
    surface: pygame.Surface | None = None

    def show(self, image: PreparedImage, key: str, caption: str | None = None) -> None:
        """Submit a frame and run the whole fade to its end on the fake clock."""
        self.renderer.submit(frame(image, key, caption))
        assert self.renderer.run_once()
        self.clock.advance(self.renderer._seconds + 0.001)
        assert self.renderer.run_once()
        assert not self.renderer.busy
