"""The SDL window and the small platform helpers around it: rotation geometry, snapshots, malloc_trim.

Rotation convention (same as dreamwindow.imaging): ``rotate`` is the clockwise angle of the picture in the
framebuffer. The *logical* size is what the viewer sees; the *physical* size is the framebuffer's.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import platform
import re
from pathlib import Path

import pygame

log = logging.getLogger(__name__)

Rect = tuple[int, int, int, int]


def logical_size(physical: tuple[int, int], rotate: int) -> tuple[int, int]:
    return (physical[1], physical[0]) if rotate in (90, 270) else (physical[0], physical[1])


def rect_to_physical(rect: Rect, logical: tuple[int, int], rotate: int) -> Rect:
    """Where a logical rect (x, y, w, h) lands in the framebuffer after a clockwise rotation by ``rotate``."""
    x, y, w, h = rect
    lw, lh = logical
    if rotate == 90:
        return (lh - y - h, x, h, w)
    if rotate == 180:
        return (lw - x - w, lh - y - h, w, h)
    if rotate == 270:
        return (y, lw - x - w, h, w)
    return rect


def rotate_surface(surface: pygame.Surface, rotate: int) -> pygame.Surface:
    """Rotate clockwise by ``rotate`` degrees (pygame.transform.rotate turns counter-clockwise)."""
    return pygame.transform.rotate(surface, -rotate) if rotate % 360 else surface


def open_screen(*, fullscreen: bool, size: tuple[int, int], headless: bool) -> pygame.Surface:
    """Initialise only SDL's video subsystem and open the window; returns the screen surface.

    pygame.init() would also start the mixer's audio thread, which costs idle CPU on a box that runs for months.
    """
    if headless:
        # Must be set before display.init(); a headless "fullscreen" has no desktop, so it uses display.size.
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        fullscreen = False
    # A kiosk must not minimise itself when another window (a notification, a terminal) takes focus.
    os.environ.setdefault("SDL_VIDEO_MINIMIZE_ON_FOCUS_LOSS", "0")
    pygame.display.init()
    if fullscreen:
        screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)  # (0, 0): the desktop's own resolution
    else:
        screen = pygame.display.set_mode(size)
    pygame.display.set_caption("DreamWindow")
    pygame.mouse.set_visible(False)
    log.info(
        "display: %s %dx%d via SDL driver %r",
        "fullscreen" if fullscreen else "window",
        *screen.get_size(),
        pygame.display.get_driver(),
    )
    return screen


def close_screen() -> None:
    pygame.display.quit()


class Snapshots:
    """Writes the screen as snapshot-00001.png, -00002.png ... continuing after files already in the folder."""

    _NAME = re.compile(r"snapshot-(\d+)\.png$")

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        taken = [int(m.group(1)) for p in folder.iterdir() if (m := self._NAME.match(p.name))]
        self.count = max(taken, default=0)
        log.info("snapshots of the screen go to %s (one PNG after each finished transition)", folder.resolve())

    def save(self, surface: pygame.Surface) -> Path:
        self.count += 1
        path = self.folder / f"snapshot-{self.count:05d}.png"
        tmp = path.with_name(f".{path.stem}.tmp.png")  # atomic: a reader never sees a half-written PNG
        pygame.image.save(surface, str(tmp))
        os.replace(tmp, path)
        log.info("snapshot %s", path)
        return path


def _load_malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


_malloc_trim = _load_malloc_trim()


def release_memory() -> None:
    """Give freed picture buffers back to the OS.

    glibc keeps freed multi-megabyte buffers in its heap: the baseline measured RSS climbing by ~175 MB at 4K after
    a few picture changes until malloc_trim(0). Called once per picture change, so its cost (ms) does not matter.
    """
    if _malloc_trim is not None:
        _malloc_trim(0)
