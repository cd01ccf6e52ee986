"""Decode and fit pictures for the screen: pure Pillow, no pygame.

``prepare()`` runs in ``asyncio.to_thread`` so the render thread never decodes or scales; it hands the renderer
raw RGB bytes at exactly the size of the physical screen.

Rotation (portrait-mounted screens) is applied HERE, not per tick in the renderer: the picture is fitted to the
*logical* size (what the viewer sees, e.g. 1080x1920 for a 1920x1080 panel turned on its side) and the finished
frame is then rotated into framebuffer orientation, off the render thread and only once per picture.
``rotate`` is the clockwise angle of the picture in the framebuffer (like ``xrandr --rotate right`` = 90): with
rotate=90 the picture's top edge lands on the framebuffer's right edge, which is the top for a viewer of a panel
turned 90 degrees counter-clockwise. ``PreparedImage.rotate`` records what was applied so the renderer can check.
"""

from __future__ import annotations

import io
import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from dreamwindow.errors import DreamWindowError

log = logging.getLogger(__name__)

FITS = ("cover", "contain", "blur")
ROTATIONS = (0, 90, 180, 270)
# Well above any generated picture (8K x 8K = 67 MP) and below Pillow's own warning threshold (89 MP).
MAX_PIXELS = 80_000_000
BLACK = (0, 0, 0)
# Blur-fill background: blurred at 1/BLUR_SHRINK of the screen (cheap), then darkened so the picture stands out.
BLUR_SHRINK = 16
BLUR_RADIUS = 2.0
BLUR_DARKEN = 0.55
# Resample once with LANCZOS; for big downscales Pillow first reduce()s by an integer factor (much faster,
# visually indistinguishable at a gap of 3).
RESAMPLE = Image.Resampling.LANCZOS
REDUCING_GAP = 3.0
_TRANSPOSE = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
_EXIF_ORIENTATION = 0x0112


class ImageError(DreamWindowError):
    """A picture could not be decoded, or is too large to decode safely."""


@dataclass(frozen=True)
class PreparedImage:
    """A frame ready for the screen: ``rgb`` holds exactly ``size[0] * size[1] * 3`` bytes, rows top to bottom."""

    size: tuple[int, int]
    rgb: bytes
    rotate: int = 0  # clockwise rotation already applied (framebuffer orientation)

    def __post_init__(self) -> None:
        w, h = self.size
        if len(self.rgb) != w * h * 3:
            raise ValueError(f"PreparedImage {w}x{h} needs {w * h * 3} bytes, got {len(self.rgb)}")


# ---- geometry (pure) -------------------------------------------------------------------------------------------


def cover_box(src: tuple[int, int], dst: tuple[int, int]) -> tuple[float, float, float, float]:
    """The centred region of ``src`` (left, top, right, bottom) that, scaled to ``dst``, fills it exactly.

    Resizing only this box is half the cost of resizing the whole picture and then cropping.
    """
    sw, sh = src
    dw, dh = dst
    scale = max(dw / sw, dh / sh)
    bw, bh = min(sw, dw / scale), min(sh, dh / scale)
    left, top = (sw - bw) / 2, (sh - bh) / 2
    return (left, top, left + bw, top + bh)


def contain_rect(src: tuple[int, int], dst: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where ``src`` goes inside ``dst`` when scaled to fit whole (x, y, w, h); the rest is letterbox."""
    sw, sh = src
    dw, dh = dst
    scale = min(dw / sw, dh / sh)
    w = max(1, min(dw, round(sw * scale)))
    h = max(1, min(dh, round(sh * scale)))
    return ((dw - w) // 2, (dh - h) // 2, w, h)


def rotated_size(size: tuple[int, int], rotate: int) -> tuple[int, int]:
    """Size after rotating by ``rotate`` degrees: width and height swap for 90 and 270."""
    return (size[1], size[0]) if rotate in (90, 270) else (size[0], size[1])


def decode_size(src: tuple[int, int], dst: tuple[int, int], fit: str) -> tuple[int, int]:
    """The smallest whole-picture size that still has enough pixels for ``fit`` (used for JPEG draft)."""
    sw, sh = src
    dw, dh = dst
    scale = max(dw / sw, dh / sh) if fit == "cover" else min(dw / sw, dh / sh)
    return (max(1, math.ceil(sw * scale)), max(1, math.ceil(sh * scale)))


# ---- pipeline ----------------------------------------------------------------------------------------------------


def prepare(
    data_or_path: bytes | Path,
    size: tuple[int, int],
    fit: str,
    rotate: int = 0,
    *,
    max_pixels: int = MAX_PIXELS,
) -> PreparedImage:
    """Decode a picture and fit it to ``size`` (the logical screen size), then rotate it clockwise by ``rotate``.

    Raises ImageError for anything that is not a decodable picture or is larger than ``max_pixels``;
    ValueError for a bad ``fit``, ``rotate`` or ``size`` (programming errors).
    """
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, not {fit!r}")
    if rotate not in ROTATIONS:
        raise ValueError(f"rotate must be one of {ROTATIONS}, not {rotate!r}")
    dst = (int(size[0]), int(size[1]))
    if dst[0] < 1 or dst[1] < 1:
        raise ValueError(f"size must be positive, not {size!r}")
    what = str(data_or_path) if isinstance(data_or_path, Path) else f"{len(data_or_path)} bytes of image data"
    try:
        img = _decode(data_or_path, dst, fit, max_pixels, what)
        if fit == "cover":
            out = _cover(img, dst)
        elif fit == "contain":
            out = _contain(img, dst, Image.new("RGB", dst, BLACK))
        else:
            out = _contain(img, dst, _blurred_background(img, dst))
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, EOFError) as exc:
        # Pillow reports truncated or corrupt data as any of these while loading or resizing.
        raise ImageError(f"cannot decode {what}: {exc}") from exc
    if rotate:
        out = out.transpose(_TRANSPOSE[rotate])
    return PreparedImage(size=out.size, rgb=out.tobytes(), rotate=rotate)


def _decode(source: bytes | Path, dst: tuple[int, int], fit: str, max_pixels: int, what: str) -> Image.Image:
    """Open, check the pixel limit before decoding, draft big JPEGs, apply EXIF orientation, convert to RGB."""
    fp = source if isinstance(source, Path) else io.BytesIO(source)
    with warnings.catch_warnings():
        # Pillow only warns between its limit and twice it; we refuse explicitly below instead.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(fp)
        except UnidentifiedImageError as exc:
            raise ImageError(f"{what} is not a picture Pillow can read") from exc
        except Image.DecompressionBombError as exc:
            raise ImageError(f"{what} is too large to decode safely: {exc}") from exc
    w, h = img.size
    if w < 1 or h < 1 or w * h > max_pixels:
        raise ImageError(f"{what} is {w}x{h} = {w * h} pixels, too large to decode safely (limit {max_pixels})")
    orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
    if img.format == "JPEG":
        # draft() makes libjpeg decode at 1/2, 1/4 or 1/8 scale while staying >= the requested size: far less
        # work for a big photo. The request is in stored (pre-EXIF-rotation) orientation.
        want = decode_size((w, h), rotated_size(dst, 90) if orientation in (5, 6, 7, 8) else dst, fit)
        if want[0] < w and want[1] < h:
            img.draft("RGB", want)
    img.load()
    if orientation != 1:  # exif_transpose copies the picture even when there is nothing to do
        img = ImageOps.exif_transpose(img) or img
    return _to_rgb(img)


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any mode to RGB; transparency is composited over black (the screen's letterbox colour)."""
    if img.mode == "RGB":
        return img
    if img.mode == "P" and "transparency" in img.info or img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, BLACK)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits rather than clipping everything above 255 to white.
        peak = 65535 if img.mode.startswith("I;16") else max(1, img.getextrema()[1])  # type: ignore[index]
        return img.convert("I").point(lambda v: v * 255 / peak).convert("L").convert("RGB")
    return img.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV, F


def _cover(img: Image.Image, dst: tuple[int, int]) -> Image.Image:
    if img.size == dst:
        return img
    return img.resize(dst, RESAMPLE, box=cover_box(img.size, dst), reducing_gap=REDUCING_GAP)


def _contain(img: Image.Image, dst: tuple[int, int], canvas: Image.Image) -> Image.Image:
    x, y, w, h = contain_rect(img.size, dst)
    fitted = img if img.size == (w, h) else img.resize((w, h), RESAMPLE, reducing_gap=REDUCING_GAP)
    canvas.paste(fitted, (x, y))
    return canvas


def _blurred_background(img: Image.Image, dst: tuple[int, int]) -> Image.Image:
    """A blurred, darkened cover of the picture itself: blurred small (cheap), then scaled up smoothly."""
    small = (max(1, dst[0] // BLUR_SHRINK), max(1, dst[1] // BLUR_SHRINK))
    bg = img.resize(small, Image.Resampling.BILINEAR, box=cover_box(img.size, small), reducing_gap=2.0)
    bg = bg.filter(ImageFilter.GaussianBlur(BLUR_RADIUS)).point(lambda v: int(v * BLUR_DARKEN))
    return bg.resize(dst, Image.Resampling.BICUBIC)
