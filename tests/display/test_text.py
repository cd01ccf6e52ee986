"""Text on the real screen: captions of any type, even letter spacing, the waiting screen's status line."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pygame
import pytest
from display_helpers import Harness, frame, pixel, screen_rgb, solid

from dreamwindow.display.captions import CaptionPainter
from dreamwindow.display.renderer import WAITING_COLOUR, Frame

Factory = Callable[..., Harness]
SIZE = (320, 180)
WHITE = (250, 250, 250)
CORNERS = [(0, 0), (319, 0), (0, 179), (319, 179)]


def text_pixels(surface: pygame.Surface, box: tuple[int, int, int, int], background: tuple[int, int, int]) -> int:
    x0, y0, x1, y1 = box
    return sum(1 for x in range(x0, x1) for y in range(y0, y1) if pixel(surface, (x, y)) != background)


def band_has_text(surface: pygame.Surface) -> bool:
    row = [pixel(surface, (x, y)) for x in range(SIZE[0]) for y in range(150, 180)]
    return any(p[0] > 180 for p in row) and any(p[0] < 150 for p in row)


# ---- captions that are not text -------------------------------------------------------------------------------

def test_frame_coerces_a_number_caption_to_text() -> None:
    assert Frame(image=solid((2, 2), WHITE), caption=12345, key="k").caption == "12345"  # type: ignore[arg-type]
    assert Frame(image=solid((2, 2), WHITE), caption=None, key="k").caption is None


def test_a_number_caption_is_drawn(harness_factory: Factory) -> None:
    h = harness_factory(size=SIZE, caption=True, seconds=0.5)
    h.show(solid(SIZE, WHITE), "a", caption=12345)  # type: ignore[arg-type]
    assert band_has_text(h.surface) and pixel(h.surface, (160, 5)) == WHITE


def test_a_caption_that_cannot_be_drawn_leaves_the_picture_and_the_loop_alive(
    harness_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness_factory(size=SIZE, caption=True, seconds=0.5)
    with caplog.at_level(logging.WARNING, logger="dreamwindow.display.renderer"):
        h.show(solid(SIZE, WHITE), "a", caption="lone surrogate \ud800 from a mis-decoded sidecar")
        assert screen_rgb(h.surface) == solid(SIZE, WHITE).rgb  # the picture, no caption
        h.show(solid(SIZE, (10, 120, 240)), "b", caption="bad again \udc80")
    assert sum("caption" in r.getMessage() for r in caplog.records) == 1  # logged once, not per picture
    h.show(solid(SIZE, WHITE), "c", caption="a good caption again")
    assert band_has_text(h.surface)


# ---- even spacing ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("screen", [(640, 360), (1280, 720), (1920, 1080), (3840, 2160)])
@pytest.mark.parametrize("word", ["cliffs", "glassy", "matte", "haze", "reflection", "AVATAR To"])
def test_each_letter_sits_on_its_own_advance(screen: tuple[int, int], word: str) -> None:
    """The words QA saw split ("cli ffs", "ma tte", "haz e") came from the font's kerning pairs rounded to whole
    pixels. Unkerned, the word drawn whole is pixel for pixel the word drawn letter by letter, each letter on
    its own advance: the spacing is the font's even design spacing."""
    font = CaptionPainter(screen, 0).text.font
    px = round(font.size)  # type: ignore[arg-type]
    whole = pygame.Surface((px * len(word), px * 2))
    letters = whole.copy()
    font.render_to(whole, (2, px), word, (255, 255, 255))
    x = 2.0
    for ch in word:
        font.render_to(letters, (round(x), px), ch, (255, 255, 255))
        x += font.get_metrics(ch)[0][4]
    assert screen_rgb(whole) == screen_rgb(letters)
    assert screen_rgb(whole) != screen_rgb(pygame.Surface(whole.get_size()))  # something was drawn


def test_caption_band_size_follows_the_screen() -> None:
    small, large = CaptionPainter((1280, 720), 0), CaptionPainter((1920, 1080), 0)
    assert 14 <= small.font_px < large.font_px <= 32
    assert large.band("one line").get_height() < large.band("word " * 80).get_height() < 1080 // 4


# ---- the waiting screen --------------------------------------------------------------------------------------

CENTRE = (20, 50, 300, 130)


def test_waiting_screen_always_shows_a_dim_status(harness_factory: Factory) -> None:
    h = harness_factory(size=SIZE, caption=False)
    assert all(pixel(h.surface, xy) == WAITING_COLOUR for xy in CORNERS)
    assert text_pixels(h.surface, CENTRE, WAITING_COLOUR) > 100
    brightest = max(max(pixel(h.surface, (x, y))) for x in range(20, 300) for y in range(50, 130))
    assert brightest < 140  # calm: dim grey on near black, no glare at night


@pytest.mark.parametrize("rotate", [90, 270])
def test_waiting_text_is_centred_at_any_rotation(harness_factory: Factory, rotate: int) -> None:
    h = harness_factory(size=SIZE, rotate=rotate)
    assert all(pixel(h.surface, xy) == WAITING_COLOUR for xy in CORNERS)
    assert text_pixels(h.surface, (110, 10, 210, 170), WAITING_COLOUR) > 100


def test_set_status_redraws_the_waiting_text_from_another_thread(harness_factory: Factory) -> None:
    h = harness_factory(size=SIZE)
    before = screen_rgb(h.surface)
    t = threading.Thread(target=h.renderer.set_status, args=("waiting for ComfyUI at http://10.0.0.5:8188",))
    t.start()
    t.join(timeout=5)
    assert h.renderer.run_once()  # woke and redrew once
    assert screen_rgb(h.surface) != before
    assert text_pixels(h.surface, CENTRE, WAITING_COLOUR) > 100
    assert not h.renderer.run_once()  # nothing new: nothing drawn
    h.renderer.set_status(None)  # back to the default text
    assert h.renderer.run_once() and screen_rgb(h.surface) == before


def test_status_is_gone_once_a_picture_is_up(harness_factory: Factory) -> None:
    h = harness_factory(size=SIZE, seconds=1.0)
    h.renderer.set_status("waiting for ComfyUI at http://10.0.0.5:8188")
    h.renderer.submit(frame(solid(SIZE, WHITE), "a"))
    h.renderer.run_once()
    h.clock.advance(1.1)
    h.renderer.run_once()
    assert screen_rgb(h.surface) == solid(SIZE, WHITE).rgb
    drawn = h.renderer.frames_drawn
    h.renderer.set_status("waiting for ComfyUI again")  # ignored: the picture stays
    assert not h.renderer.run_once()
    assert h.renderer.frames_drawn == drawn and screen_rgb(h.surface) == solid(SIZE, WHITE).rgb
