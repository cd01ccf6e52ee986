"""Caption band: the prompt text in a translucent strip under the picture.

Painted once per picture change onto the picture's own surface (never per tick), so a crossfade fades the old
caption out with the old picture and the new one in with the new picture.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pygame

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


class CaptionPainter:
    """Renders caption bands for one logical screen size; needs pygame.font (initialised here)."""

    def __init__(self, logical_size: tuple[int, int], rotate: int) -> None:
        pygame.font.init()
        self.logical_size = logical_size
        self.rotate = rotate
        w, h = logical_size
        self.font_px = max(14, min(w, h) // 28)
        self.font = pygame.font.Font(None, self.font_px)  # pygame's bundled font: works on any box, headless too
        self.margin = max(8, self.font_px // 2)

    def band(self, text: str, colour: tuple[int, int, int] = TEXT_COLOUR) -> pygame.Surface:
        """The band in logical orientation: full width, translucent black, centred text lines."""
        w, _ = self.logical_size
        usable = w - 2 * self.margin
        lines = wrap(text, lambda s: self.font.size(s)[0] <= usable) or [""]
        line_h = self.font.get_linesize()
        band = pygame.Surface((w, line_h * len(lines) + 2 * self.margin), pygame.SRCALPHA)
        band.fill(BAND_RGBA)
        for i, line in enumerate(lines):
            rendered = self.font.render(line, True, colour)
            band.blit(rendered, ((w - rendered.get_width()) // 2, self.margin + i * line_h))
        return band

    def paint(self, target: pygame.Surface, text: str, colour: tuple[int, int, int] = TEXT_COLOUR) -> None:
        """Blend the band onto ``target`` (framebuffer orientation) at the bottom of the logical picture."""
        if not text.strip():
            return
        band = self.band(text, colour)
        lw, lh = self.logical_size
        rect = (0, lh - band.get_height(), lw, band.get_height())
        x, y, _, _ = rect_to_physical(rect, self.logical_size, self.rotate)
        target.blit(rotate_surface(band, self.rotate), (x, y))
