"""Display test fixtures: the real renderer under SDL's dummy driver, driven by a fake clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import pygame  # noqa: E402
from display_helpers import FakeClock, Harness, make_display  # noqa: E402

from dreamwindow.display.renderer import Renderer, RenderState  # noqa: E402


@pytest.fixture
def harness_factory(tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    opened: list[Renderer] = []

    def make(snapshot_dir: Path | None = None, **display_kw: Any) -> Harness:
        clock = FakeClock()
        states: list[RenderState] = []
        h = Harness(renderer=None, clock=clock, states=states)  # type: ignore[arg-type]

        def on_frame(surface: pygame.Surface, state: RenderState) -> None:
            h.surface = surface
            states.append(state)

        h.renderer = Renderer(
            make_display(**display_kw), headless=True, clock=clock, snapshot_dir=snapshot_dir, on_frame=on_frame
        )
        h.renderer.open()
        opened.append(h.renderer)
        return h

    yield make
    for r in opened:
        r.close()
