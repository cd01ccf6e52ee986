from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from dreamwindow.errors import DreamWindowError
from dreamwindow.imaging import (
    ImageError,
    PreparedImage,
    contain_rect,
    cover_box,
    decode_size,
    prepare,
    rotated_size,
)

RED, GREEN, BLUE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 0, 0)


def encode(img: Image.Image, fmt: str = "PNG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def px(p: PreparedImage, x: int, y: int) -> tuple[int, int, int]:
    i = (y * p.size[0] + x) * 3
    return tuple(p.rgb[i : i + 3])  # type: ignore[return-value]


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b))


def red_top(size: tuple[int, int], band: int) -> Image.Image:
    img = Image.new("RGB", size, BLUE)
    img.paste(RED, (0, 0, size[0], band))
    return img


# ---- geometry ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "dst", "box"),
    [
        ((100, 100), (200, 100), (0, 25, 100, 75)),  # square onto wide: keep full width, crop top/bottom
        ((100, 100), (100, 200), (25, 0, 75, 100)),  # square onto tall: crop the sides
        ((200, 100), (200, 100), (0, 0, 200, 100)),  # same aspect: everything
        ((400, 200), (100, 50), (0, 0, 400, 200)),  # same aspect, downscale
        ((1024, 1024), (1920, 1080), (0, 224, 1024, 800)),
        ((768, 512), (1080, 1920), (240, 0, 528, 512)),
    ],
)
def test_cover_box(src: tuple[int, int], dst: tuple[int, int], box: tuple[float, ...]) -> None:
    got = cover_box(src, dst)
    assert got == pytest.approx(box)
    bw, bh = got[2] - got[0], got[3] - got[1]
    assert bw / bh == pytest.approx(dst[0] / dst[1])  # the box has the screen's aspect: no distortion


@pytest.mark.parametrize(
    ("src", "dst", "rect"),
    [
        ((100, 100), (200, 100), (50, 0, 100, 100)),  # pillarbox
        ((200, 100), (100, 100), (0, 25, 100, 50)),  # letterbox
        ((1024, 1024), (1920, 1080), (420, 0, 1080, 1080)),
        ((768, 512), (1920, 1080), (150, 0, 1620, 1080)),
        ((300, 200), (300, 200), (0, 0, 300, 200)),
        ((10000, 1), (100, 100), (0, 49, 100, 1)),  # never a zero-height picture
    ],
)
def test_contain_rect(src: tuple[int, int], dst: tuple[int, int], rect: tuple[int, ...]) -> None:
    got = contain_rect(src, dst)
    assert got == rect
    x, y, w, h = got
    assert 0 <= x and 0 <= y and x + w <= dst[0] and y + h <= dst[1]


@pytest.mark.parametrize(("size", "rotate", "out"), [((4, 3), 0, (4, 3)), ((4, 3), 90, (3, 4)),
                                                      ((4, 3), 180, (4, 3)), ((4, 3), 270, (3, 4))])
def test_rotated_size(size: tuple[int, int], rotate: int, out: tuple[int, int]) -> None:
    assert rotated_size(size, rotate) == out


@pytest.mark.parametrize(
    ("src", "dst", "fit", "out"),
    [((4096, 4096), (1920, 1080), "cover", (1920, 1920)), ((4096, 4096), (1920, 1080), "contain", (1080, 1080))],
)
def test_decode_size(src: tuple[int, int], dst: tuple[int, int], fit: str, out: tuple[int, int]) -> None:
    assert decode_size(src, dst, fit) == out


# ---- prepare -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fit", ["cover", "contain", "blur"])
@pytest.mark.parametrize("size", [(64, 48), (48, 64), (33, 17)])
def test_prepare_exact_size(fit: str, size: tuple[int, int]) -> None:
    p = prepare(encode(Image.new("RGB", (100, 70), GREEN)), size, fit)
    assert p.size == size and len(p.rgb) == size[0] * size[1] * 3 and p.rotate == 0


def test_cover_crops_the_centre() -> None:
    img = Image.new("RGB", (300, 100), RED)  # red | blue | red thirds; cover onto a square keeps the middle
    img.paste(BLUE, (100, 0, 200, 100))
    p = prepare(encode(img), (50, 50), "cover")
    assert all(close(px(p, x, y), BLUE) for x in (1, 25, 48) for y in (1, 25, 48))


def test_contain_letterboxes_on_black() -> None:
    p = prepare(encode(Image.new("RGB", (100, 100), GREEN)), (80, 40), "contain")
    assert px(p, 2, 20) == BLACK and px(p, 77, 20) == BLACK  # bars left and right
    assert close(px(p, 40, 20), GREEN)


def test_blur_fills_bars_with_the_picture_darkened() -> None:
    p = prepare(encode(Image.new("RGB", (100, 100), GREEN)), (80, 40), "blur")
    bar = px(p, 2, 20)
    assert bar != BLACK and bar[1] < 200 and bar[1] > 80  # green, darkened
    assert close(px(p, 40, 20), GREEN)


def test_path_input(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.new("RGB", (10, 10), RED).save(path)
    assert px(prepare(path, (5, 5), "cover"), 2, 2) == RED


@pytest.mark.parametrize(
    ("img", "expected"),
    [
        (Image.new("RGBA", (20, 20), (255, 0, 0, 0)), BLACK),  # fully transparent -> black
        (Image.new("RGBA", (20, 20), (255, 0, 0, 255)), RED),
        (Image.new("RGBA", (20, 20), (200, 100, 50, 128)), (100, 50, 25)),  # composited over black
        (Image.new("LA", (20, 20), (200, 255)), (200, 200, 200)),
        (Image.new("L", (20, 20), 77), (77, 77, 77)),
        (Image.new("RGB", (20, 20), GREEN).convert("P"), GREEN),
        (Image.new("I;16", (20, 20), 65535), (255, 255, 255)),
        (Image.new("1", (20, 20), 1), (255, 255, 255)),
    ],
    ids=["rgba-clear", "rgba-opaque", "rgba-half", "la", "l", "p", "i16", "1bit"],
)
def test_modes_become_rgb(img: Image.Image, expected: tuple[int, int, int]) -> None:
    p = prepare(encode(img, "PNG"), (10, 10), "cover")
    assert close(px(p, 5, 5), expected, tol=2)


def test_p_with_transparency_on_black() -> None:
    img = Image.new("P", (20, 20), 0)
    img.putpalette([255, 0, 0] + [0, 255, 0] * 255)
    img.info["transparency"] = 0
    assert px(prepare(encode(img, "PNG", transparency=0), (10, 10), "contain"), 5, 5) == BLACK


def test_cmyk_jpeg() -> None:
    img = Image.new("CMYK", (40, 40), (0, 255, 255, 0))  # pure red in CMYK
    assert close(px(prepare(encode(img, "JPEG"), (10, 10), "cover"), 5, 5), RED, tol=20)


@pytest.mark.parametrize(("orientation", "top_at"), [(1, "top"), (3, "bottom"), (6, "right"), (8, "left")])
def test_exif_orientation(orientation: int, top_at: str) -> None:
    # Stored pixels have red at the top; the EXIF tag says how the camera was held. After prepare the picture
    # must be shown as the viewer should see it (6: rotate 90 clockwise to view, 8: counter-clockwise).
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(red_top((60, 60), 15), "JPEG", exif=exif.tobytes(), quality=95)
    p = prepare(data, (60, 60), "cover")
    where = {"top": (30, 3), "bottom": (30, 56), "left": (3, 30), "right": (56, 30)}
    assert close(px(p, *where[top_at]), RED, tol=40)
    assert close(px(p, 30, 30), BLUE, tol=40)


@pytest.mark.parametrize(("rotate", "red_at"), [(0, (40, 2)), (90, (77, 40)), (180, (40, 77)), (270, (2, 40))])
def test_rotation_keeps_the_picture_upright(rotate: int, red_at: tuple[int, int]) -> None:
    """rotate is clockwise in the framebuffer: at 90 the picture's top is on the framebuffer's right edge."""
    p = prepare(encode(red_top((80, 80), 8)), (80, 80), "cover", rotate=rotate)
    assert p.rotate == rotate
    assert px(p, *red_at) == RED
    assert px(p, 40, 40) == BLUE


def test_rotation_swaps_to_the_physical_size() -> None:
    p = prepare(encode(red_top((100, 50), 5)), (48, 64), "contain", rotate=90)
    assert p.size == (64, 48)


def test_big_jpeg_is_drafted_and_correct() -> None:
    img = Image.new("RGB", (4000, 3000), BLUE)
    img.paste(RED, (0, 0, 4000, 300))
    p = prepare(encode(img, "JPEG", quality=90), (400, 300), "cover")
    assert p.size == (400, 300)
    assert close(px(p, 200, 5), RED, tol=30) and close(px(p, 200, 200), BLUE, tol=30)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size: a decompression bomb in miniature."""
    data = bytearray(encode(Image.new("RGB", (1, 1))))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


@pytest.mark.parametrize("side", [9000, 20000])  # above our limit; above Pillow's own hard limit
def test_decompression_bomb_refused(side: int) -> None:
    with pytest.raises(ImageError, match="too large to decode safely"):
        prepare(_png_claiming(side, side), (64, 48), "cover")


def test_pixel_limit_is_configurable() -> None:
    with pytest.raises(ImageError, match="100x100"):
        prepare(encode(Image.new("RGB", (100, 100))), (10, 10), "cover", max_pixels=5000)


@pytest.mark.parametrize("data", [b"", b"not a picture at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_undecodable(data: bytes) -> None:
    with pytest.raises(ImageError) as info:
        prepare(data, (10, 10), "cover")
    assert isinstance(info.value, DreamWindowError)


def test_truncated_jpeg() -> None:
    data = encode(Image.effect_noise((200, 200), 50).convert("RGB"), "JPEG")
    with pytest.raises(ImageError, match="cannot decode"):
        prepare(data[: len(data) // 2], (10, 10), "cover")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError):
        prepare(tmp_path / "nope.png", (10, 10), "cover")


@pytest.mark.parametrize(("kw", "match"), [({"fit": "stretch"}, "fit"), ({"rotate": 45}, "rotate"),
                                           ({"size": (0, 10)}, "size")])
def test_bad_arguments(kw: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"size": (10, 10), "fit": "cover", "rotate": 0} | kw
    with pytest.raises(ValueError, match=match):
        prepare(encode(Image.new("RGB", (4, 4))), **args)  # type: ignore[arg-type]


def test_prepared_image_checks_its_length() -> None:
    with pytest.raises(ValueError):
        PreparedImage((2, 2), b"\0" * 11)
