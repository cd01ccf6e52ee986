"""The real renderer under SDL's dummy driver, driven step by step with a fake clock (no threads, no sleeps)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pygame
import pytest
from display_helpers import Harness, frame, pixel, screen_rgb, solid
from PIL import Image

from dreamwindow.display.renderer import WAITING_COLOUR
from dreamwindow.display.transitions import alpha_byte, get_easing
from dreamwindow.imaging import prepare

Factory = Callable[..., Harness]
A, B, C = (200, 40, 10), (10, 120, 240), (90, 250, 90)
SIZE = (64, 48)
SAMPLES = [(0, 0), (63, 0), (0, 47), (63, 47), (31, 23), (10, 40)]


def blend(a: tuple[int, ...], b: tuple[int, ...], w: float) -> tuple[float, ...]:
    return tuple(x + (y - x) * w for x, y in zip(a, b))


def test_open_reports_sizes_and_shows_a_calm_dark_screen(harness_factory: Factory) -> None:
    h = harness_factory()
    assert h.renderer.size == SIZE == h.renderer.physical_size
    assert len(h.states) == 1 and h.states[0].to_key is None  # the waiting screen is drawn once, never blank
    assert all(pixel(h.surface, xy) == WAITING_COLOUR for xy in SAMPLES[:4])  # corners; the status text is centred
    assert pygame.display.get_caption()[0] == "DreamWindow"
    assert not pygame.mouse.get_visible()


def test_fade_lands_exactly_on_the_new_picture(harness_factory: Factory) -> None:
    h = harness_factory(seconds=2.0)
    h.show(solid(SIZE, A), "a")
    assert all(pixel(h.surface, xy) == A for xy in SAMPLES)
    b = solid(SIZE, B)
    h.show(b, "b")
    assert screen_rgb(h.surface) == b.rgb  # every pixel, exactly
    last = h.states[-1]
    assert (last.t, last.alpha, last.from_key, last.to_key) == (1.0, 1.0, "a", "b")


@pytest.mark.parametrize("easing", ["linear", "smoothstep", "ease_in_out"])
@pytest.mark.parametrize("t", [0.1, 0.3, 0.5, 0.8])
def test_mid_fade_is_the_eased_blend(harness_factory: Factory, easing: str, t: float) -> None:
    h = harness_factory(seconds=4.0, easing=easing)
    h.show(solid(SIZE, A), "a")
    h.renderer.submit(frame(solid(SIZE, B), "b"))
    start = h.clock.now
    assert h.renderer.run_once()
    h.clock.now = start + 4.0 * t
    assert h.renderer.run_once() and h.renderer.busy
    eased = get_easing(easing)(t)
    state = h.states[-1]
    assert state.t == pytest.approx(t) and state.alpha == pytest.approx(eased)
    want = blend(A, B, eased)
    for xy in SAMPLES:
        assert all(abs(g - w) <= 2 for g, w in zip(pixel(h.surface, xy), want)), (xy, pixel(h.surface, xy), want)
    assert alpha_byte(eased) not in (0, 255)  # a real mid-fade, not an endpoint


def test_nothing_is_drawn_while_idle(harness_factory: Factory) -> None:
    h = harness_factory(seconds=1.0)
    for _ in range(50):
        h.clock.advance(0.25)
        assert not h.renderer.run_once()
    assert len(h.states) == 1
    h.show(solid(SIZE, A), "a")
    drawn = h.renderer.frames_drawn
    for _ in range(50):
        h.clock.advance(10.0)
        assert not h.renderer.run_once()
    assert h.renderer.frames_drawn == drawn == len(h.states)


def test_a_new_picture_mid_fade_continues_from_the_blend(harness_factory: Factory) -> None:
    h = harness_factory(seconds=2.0, easing="linear")
    h.show(solid(SIZE, A), "a")
    h.renderer.submit(frame(solid(SIZE, B), "b"))
    h.renderer.run_once()
    h.clock.advance(1.0)
    h.renderer.run_once()
    halfway = pixel(h.surface, (5, 5))
    h.renderer.submit(frame(solid(SIZE, C), "c"))
    assert h.renderer.run_once()  # the new fade's first frame: no pop
    assert all(abs(x - y) <= 1 for x, y in zip(pixel(h.surface, (5, 5)), halfway))
    assert h.states[-1].from_key == "b" and h.states[-1].to_key == "c"
    h.clock.advance(1.0)
    h.renderer.run_once()
    assert all(abs(g - w) <= 2 for g, w in zip(pixel(h.surface, (5, 5)), blend(halfway, C, 0.5)))
    h.clock.advance(1.1)
    h.renderer.run_once()
    assert screen_rgb(h.surface) == solid(SIZE, C).rgb


def test_only_the_newest_queued_frame_is_shown(harness_factory: Factory) -> None:
    h = harness_factory(seconds=1.0)
    h.renderer.submit(frame(solid(SIZE, A), "a"))
    h.show(solid(SIZE, B), "b")
    assert screen_rgb(h.surface) == solid(SIZE, B).rgb
    assert {s.to_key for s in h.states} == {None, "b"}


def test_zero_second_transition_is_a_cut(harness_factory: Factory) -> None:
    h = harness_factory(seconds=0.0)
    h.renderer.submit(frame(solid(SIZE, A), "a"))
    assert h.renderer.run_once() and not h.renderer.busy
    assert pixel(h.surface, (3, 3)) == A


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_contain_geometry_on_the_real_surface(harness_factory: Factory) -> None:
    h = harness_factory(size=(80, 40), seconds=0.5)
    h.show(prepare(_png(Image.new("RGB", (50, 50), C)), h.renderer.size, "contain"), "sq")
    assert pixel(h.surface, (19, 20)) == (0, 0, 0) and pixel(h.surface, (60, 20)) == (0, 0, 0)
    assert pixel(h.surface, (20, 0)) == C and pixel(h.surface, (59, 39)) == C


def test_cover_geometry_on_the_real_surface(harness_factory: Factory) -> None:
    img = Image.new("RGB", (120, 40), A)  # A | B | A in thirds; cover onto 80x40 keeps the centre 80 columns
    img.paste(B, (20, 0, 100, 40))
    h = harness_factory(size=(80, 40), seconds=0.5)
    h.show(prepare(_png(img), h.renderer.size, "cover"), "wide")
    assert all(pixel(h.surface, xy) == B for xy in [(0, 0), (79, 0), (0, 39), (79, 39), (40, 20)])


PHYSICAL_RED = {0: [(40, 0), (20, 0)], 90: [(79, 20), (79, 5)], 180: [(40, 39), (20, 39)], 270: [(0, 20), (0, 5)]}


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
@pytest.mark.parametrize("prepared_rotated", [True, False], ids=["prepared-rotated", "rotated-by-renderer"])
def test_rotation_puts_the_top_edge_on_the_right_physical_side(
    harness_factory: Factory, rotate: int, prepared_rotated: bool
) -> None:
    """rotate is clockwise in the framebuffer; 90 puts the picture's top on the panel's right edge."""
    h = harness_factory(size=(80, 40), rotate=rotate, seconds=0.5)
    logical = h.renderer.size
    assert logical == ((40, 80) if rotate in (90, 270) else (80, 40))
    img = Image.new("RGB", logical, B)
    img.paste(A, (0, 0, logical[0], 4))  # red-ish top edge
    h.show(prepare(_png(img), logical, "cover", rotate=rotate if prepared_rotated else 0), "r")
    assert h.surface.get_size() == (80, 40)
    for xy in PHYSICAL_RED[rotate]:
        assert pixel(h.surface, xy) == A, (rotate, xy)
    assert pixel(h.surface, (40, 20)) == B


def test_a_frame_of_the_wrong_size_is_centred_not_scaled(harness_factory: Factory) -> None:
    h = harness_factory(seconds=0.5)
    h.show(solid((32, 24), A), "small")
    assert pixel(h.surface, (32, 24)) == A and pixel(h.surface, (2, 2)) == (0, 0, 0)


def test_snapshots_after_each_finished_transition(harness_factory: Factory, tmp_path: Path) -> None:
    snaps = tmp_path / "snaps"
    h = harness_factory(snapshot_dir=snaps, seconds=1.0)
    assert list(snaps.iterdir()) == []
    h.show(solid(SIZE, A), "a")
    h.show(solid(SIZE, B), "b")
    names = sorted(p.name for p in snaps.iterdir())
    assert names == ["snapshot-00001.png", "snapshot-00002.png"]
    with Image.open(snaps / names[1]) as img:
        assert img.size == SIZE and img.convert("RGB").tobytes() == solid(SIZE, B).rgb


def test_snapshot_numbering_continues(harness_factory: Factory, tmp_path: Path) -> None:
    (tmp_path / "snapshot-00041.png").write_bytes(b"old")
    h = harness_factory(snapshot_dir=tmp_path, seconds=0.1)
    h.show(solid(SIZE, A), "a")
    assert (tmp_path / "snapshot-00042.png").is_file()


@pytest.mark.parametrize("caption", [True, False])
def test_captions_only_when_enabled(harness_factory: Factory, caption: bool) -> None:
    h = harness_factory(size=(320, 180), caption=caption, seconds=0.5)
    h.show(solid((320, 180), (250, 250, 250)), "a", caption="a misty forest at dawn")
    bottom = [pixel(h.surface, (x, 178)) for x in range(0, 320, 8)]
    top = pixel(h.surface, (160, 5))
    assert top == (250, 250, 250)
    if caption:
        assert all(p[0] < 200 for p in bottom)  # the translucent dark band under the text
        row = [pixel(h.surface, (x, y)) for x in range(320) for y in range(150, 180)]
        assert any(p[0] > 180 for p in row) and any(p[0] < 150 for p in row)  # text on the band
    else:
        assert all(p == (250, 250, 250) for p in bottom)


def test_caption_follows_rotation(harness_factory: Factory) -> None:
    h = harness_factory(size=(180, 320), rotate=90, caption=True, seconds=0.5)
    white = (250, 250, 250)
    h.show(prepare(_png(Image.new("RGB", (10, 10), white)), h.renderer.size, "cover", rotate=90), "a", caption="x")
    # The logical bottom is the framebuffer's left edge at rotate=90.
    assert pixel(h.surface, (1, 160))[0] < 200 and pixel(h.surface, (178, 160)) == white


@pytest.mark.parametrize(
    "event",
    [
        pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="\x1b", scancode=41),
        pygame.event.Event(pygame.KEYDOWN, key=pygame.K_q, mod=0, unicode="q", scancode=20),
        pygame.event.Event(pygame.QUIT),
    ],
    ids=["esc", "q", "window-close"],
)
def test_quit_events(harness_factory: Factory, event: pygame.event.Event) -> None:
    h = harness_factory()
    quits: list[bool] = []
    h.renderer.on_quit = lambda: quits.append(True)
    pygame.event.post(event)
    assert not h.renderer.run_once()
    assert h.renderer.stopped and quits == [True]


def test_other_keys_do_not_quit(harness_factory: Factory) -> None:
    h = harness_factory()
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_SPACE, mod=0, unicode=" ", scancode=44))
    h.renderer.run_once()
    assert not h.renderer.stopped
