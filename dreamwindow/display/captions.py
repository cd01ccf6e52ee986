"""Text on the screen: the caption band under a picture and the dim status on the waiting screen.

The caption is painted once per picture change onto the picture's own surface (never per tick), so a crossfade
fades the old caption out with the old picture and the new one in with the new picture.

Text goes through pygame.freetype with the font pygame bundles (freesansbold.ttf), so it works on a bare box with
no system fonts, headless too. Kerning is switched off on purpose: pygame.font (SDL_ttf) always applies that
font's kerning table, and at caption sizes the pair adjustments round to whole pixels unevenly, which printed
"cli ffs", "ma tte", "haz e". Without kerning every glyph sits on its own advance and the spacing is even.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pygame
import pygame.freetype

from dreamwindow.display.screen import rect_to_physical, rotate_surface

log = logging.getLogger(__name__)

TEXT_COLOUR = (235, 235, 235)
BAND_RGBA = (0, 0, 0, 150)
MAX_LINES = 2
ELLIPSIS = "…"


def wrap(text: str, fits: Callable[[str], bool], max_lines: int = MAX_LINES) -> list[str]:
    """Greedy word wrap into at most ``max_lines`` lines; the last line ends in an ellipsis if text was cut."""
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if fits(candidate):
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        if len(lines) == max_lines:
            break
        while not fits(current) and len(current) > 1:  # a single word wider than the screen
            current = current[:-2] + ELLIPSIS
    else:
        if current:
            lines.append(current)
        return lines
    # Ran out of lines: shorten the last kept line until it fits with an ellipsis.
    last = lines[-1]
    while last and not fits(last + ELLIPSIS):
        last = last[:-1]
    lines[-1] = last.rstrip(" ,;") + ELLIPSIS
    return lines


def make_font(px: int) -> pygame.freetype.Font:
    """pygame's bundled font at ``px`` pixels per em, unkerned (see the module docstring for why)."""
    pygame.freetype.init()
    font = pygame.freetype.Font(None, px)
    font.kerning = False
    font.antialiased = True
    font.origin = True  # render_to positions are baselines, so every line sits at the same height
    return font


class TextBlock:
    """Centred, wrapped lines of one font, rendered onto a transparent surface of a given width."""

    def __init__(self, px: int, max_lines: int = MAX_LINES) -> None:
        self.font = make_font(px)
        self.max_lines = max_lines
        self.line_h = self.font.get_sized_height()
        self.ascent = self.font.get_sized_ascender()

    def width(self, line: str) -> int:
        return self.font.get_rect(line).width

    def lines(self, text: str, usable: int) -> list[str]:
        return wrap(text, lambda s: self.width(s) <= usable, self.max_lines)

    def draw(self, target: pygame.Surface, lines: list[str], top: int, colour: tuple[int, int, int]) -> None:
        w = target.get_width()
        for i, line in enumerate(lines):
            self.font.render_to(target, ((w - self.width(line)) // 2, top + self.ascent + i * self.line_h),
                                line, colour)


class CaptionPainter:
    """Renders caption bands for one logical screen size."""

    def __init__(self, logical_size: tuple[int, int], rotate: int) -> None:
        self.logical_size = logical_size
        self.rotate = rotate
        w, h = logical_size
        self.font_px = max(10, round(min(w, h) / 40))  # ~27 px at 1080p, 18 px at 720p
        self.text = TextBlock(self.font_px)
        self.margin = max(6, round(self.font_px * 0.7))

    def band(self, text: str, colour: tuple[int, int, int] = TEXT_COLOUR) -> pygame.Surface:
        """The band in logical orientation: full width, translucent black, centred text lines."""
        w, _ = self.logical_size
        lines = self.text.lines(text, w - 2 * self.margin) or [""]
        band = pygame.Surface((w, self.text.line_h * len(lines) + 2 * self.margin), pygame.SRCALPHA)
        band.fill(BAND_RGBA)
        self.text.draw(band, lines, self.margin, colour)
        return band

    def paint(self, target: pygame.Surface, text: object, colour: tuple[int, int, int] = TEXT_COLOUR) -> None:
        """Blend the band onto ``target`` (framebuffer orientation) at the bottom of the logical picture."""
        text = text if isinstance(text, str) else str(text)  # a hand-edited sidecar may hold a number
        if not text.strip():
            return
        band = self.band(text, colour)
        lw, lh = self.logical_size
        rect = (0, lh - band.get_height(), lw, band.get_height())
        x, y, _, _ = rect_to_physical(rect, self.logical_size, self.rotate)
        target.blit(rotate_surface(band, self.rotate), (x, y))


class StatusPainter:
    """The waiting screen's text: "DreamWindow" and a dim status line under it, centred, calm."""

    TITLE_COLOUR = (104, 104, 116)
    STATUS_COLOUR = (84, 84, 96)

    def __init__(self, logical_size: tuple[int, int], rotate: int) -> None:
        self.logical_size = logical_size
        self.rotate = rotate
        side = min(logical_size)
        self.title = TextBlock(max(10, round(side / 24)), max_lines=1)
        self.status = TextBlock(max(9, round(side / 42)), max_lines=3)

    def paint(self, target: pygame.Surface, background: tuple[int, int, int], status: str) -> None:
        """Fill ``target`` with ``background`` and centre the title and status on it (any rotation)."""
        target.fill(background)
        lw, lh = self.logical_size
        usable = max(1, int(lw * 0.9))
        title = self.title.lines("DreamWindow", usable)
        lines = self.status.lines(status, usable)
        gap = self.status.line_h // 2
        height = self.title.line_h * len(title) + gap + self.status.line_h * len(lines)
        block = pygame.Surface((lw, height), pygame.SRCALPHA)
        self.title.draw(block, title, 0, self.TITLE_COLOUR)
        self.status.draw(block, lines, self.title.line_h * len(title) + gap, self.STATUS_COLOUR)
        rotated = rotate_surface(block, self.rotate)
        # The block spans the logical width and is centred, so its centre is the screen's centre at any rotation.
        target.blit(rotated, rotated.get_rect(center=target.get_rect().center))
