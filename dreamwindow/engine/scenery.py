"""Drawing pieces of the dream painter: sky, lights, and one silhouette landscape per scene kind.

Every landscape is a stack of layers from far to near; far layers fade into the horizon colour (aerial
perspective) and, when the prompt is misty, a band of fog settles at the foot of each layer.
"""

from __future__ import annotations

import math
import random
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter

RGB = tuple[int, int, int]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


def shift(c: RGB, d: list[float]) -> RGB:
    return tuple(max(0, min(255, int(v + dv))) for v, dv in zip(c, d))  # type: ignore[return-value]


def _column(colors: list[RGB], w: int) -> Image.Image:
    col = Image.new("RGB", (1, len(colors)))
    col.putdata(colors)
    return col.resize((w, len(colors)), Image.Resampling.NEAREST)


def sky(w: int, h: int, top: RGB, mid: RGB, horizon: RGB) -> Image.Image:
    rows = []
    for y in range(h):
        t = y / max(1, h - 1) / 0.7              # the sky gradient ends a bit below the middle
        rows.append(mix(top, mid, t / 0.55) if t < 0.55 else mix(mid, horizon, min(1.0, (t - 0.55) / 0.45)))
    return _column(rows, w)


def stars(img: Image.Image, rng: random.Random, max_y: float, dense: bool) -> None:
    w, _ = img.size
    draw = ImageDraw.Draw(img)
    for _ in range(int(w * max_y / (70 if dense else 240))):
        x, y = rng.uniform(0, w), rng.uniform(0, max_y) ** 1.0
        b = rng.random() ** 2.2
        base = img.getpixel((int(x), int(y)))
        draw.point((x, y), fill=mix(base, (255, 250, 235), 0.25 + 0.75 * b))
        if b > 0.93:
            draw.line((x - 2, y, x + 2, y), fill=mix(base, (255, 255, 255), 0.5))
            draw.line((x, y - 2, x, y + 2), fill=mix(base, (255, 255, 255), 0.5))


def aurora(img: Image.Image, rng: random.Random) -> Image.Image:
    w, h = img.size
    layer = Image.new("RGB", img.size)
    draw = ImageDraw.Draw(layer)
    for _ in range(rng.randint(2, 3)):
        base, amp = h * rng.uniform(0.2, 0.42), h * rng.uniform(0.04, 0.12)
        f1, f2, p1, p2 = rng.uniform(1, 3), rng.uniform(3, 7), rng.uniform(0, 6.3), rng.uniform(0, 6.3)
        tall = h * rng.uniform(0.15, 0.3)
        low, high = rng.choice([((40, 230, 140), (120, 90, 230)), ((60, 255, 170), (40, 160, 220)),
                                ((90, 240, 120), (200, 80, 190))])
        for x in range(w):
            u = x / w * 2 * math.pi
            y = base + amp * math.sin(f1 * u + p1) + amp * 0.4 * math.sin(f2 * u + p2)
            k = 0.35 + 0.65 * (0.5 + 0.5 * math.sin(f2 * 1.7 * u + p1))
            draw.line((x, y, x, y - tall * k * 0.5), fill=mix((0, 0, 0), low, k))
            draw.line((x, y - tall * k * 0.5, x, y - tall * k), fill=mix((0, 0, 0), high, k * 0.6))
    layer = layer.filter(ImageFilter.GaussianBlur(max(2, w // 120)))
    return ImageChops.screen(img, layer)


def sun(img: Image.Image, pos: tuple[float, float], radius: float, color: RGB, glow: float = 1.0) -> Image.Image:
    size = int(radius * 9 * glow)
    falloff = Image.radial_gradient("L").resize((size, size))
    mask = falloff.point(lambda v: int(200 * max(0.0, 1 - v / 180) ** 2.4))
    box = (int(pos[0] - size / 2), int(pos[1] - size / 2))
    img.paste(Image.new("RGB", (size, size), color), box, mask)
    ImageDraw.Draw(img).ellipse((pos[0] - radius, pos[1] - radius, pos[0] + radius, pos[1] + radius), fill=color)
    return img


def ridge(rng: random.Random, w: int, base: float, amp: float, rough: float, smooth: bool = False) -> list:
    """Points of a skyline across the width: jagged by midpoint displacement, or smooth by summed waves."""
    if smooth:
        waves = [(rng.uniform(0.5, 2.5), rng.uniform(0, 6.3), rng.uniform(0.3, 1)) for _ in range(3)]
        total = sum(a for *_, a in waves)
        return [(x, base - amp * sum(a * math.sin(f * x / w * 2 * math.pi + p) for f, p, a in waves) / total)
                for x in range(0, w + 6, 6)]
    n = 64
    ys = [0.0] * (n + 1)
    ys[0], ys[n] = rng.uniform(-1, 1), rng.uniform(-1, 1)
    step, spread = n, 1.0
    while step > 1:
        for i in range(0, n, step):
            ys[i + step // 2] = (ys[i] + ys[i + step]) / 2 + rng.uniform(-spread, spread)
        step //= 2
        spread *= rough
    return [(i * w / n, base - amp * y) for i, y in enumerate(ys)]


def fill_below(img: Image.Image, pts: list, color: RGB) -> None:
    w, h = img.size
    ImageDraw.Draw(img).polygon(list(pts) + [(w, h), (0, h)], fill=color)


def fog(img: Image.Image, y: float, thickness: float, color: RGB, strength: float) -> Image.Image:
    w, h = img.size
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).rectangle((0, y - thickness / 2, w, y + thickness / 2), fill=int(255 * strength))
    mask = mask.filter(ImageFilter.GaussianBlur(thickness / 2))
    return Image.composite(Image.new("RGB", img.size, color), img, mask)


def _layers(img: Image.Image, rng: random.Random, scene: Any, tint: RGB, n: int, start: float, spread: float,
            amp: float, rough: float, smooth: bool, decorate=None) -> Image.Image:
    w, h = img.size
    for i in range(n):
        depth = i / max(1, n - 1)
        base = h * (start + spread * depth)
        color = mix(mix(scene.dark, tint, 0.55 - 0.25 * depth), scene.horizon, 0.72 * (1 - depth) ** 1.3)
        pts = ridge(rng, w, base, h * amp * (1 - 0.35 * depth), rough, smooth)
        if scene.snow and not smooth and depth < 0.7:
            fill_below(img, pts, mix((236, 242, 252), scene.horizon, 0.35 * (1 - depth)))
            snowline = base - h * amp * 0.25       # rock shows below it, snow caps the peaks above it
            pts = [(x, y + max(0.0, snowline - y) * 0.75 + h * 0.004) for x, y in pts]
        fill_below(img, pts, color)
        if decorate:
            decorate(img, rng, pts, color, depth)
        if scene.fog and i < n - 1:
            img = fog(img, base + h * 0.02, h * 0.1, mix(scene.horizon, (255, 255, 255), 0.15), 0.55)
    return img


def land_mountain(img: Image.Image, rng: random.Random, scene: Any) -> Image.Image:
    return _layers(img, rng, scene, (86, 96, 124), 4, 0.5, 0.3, 0.2, 0.55, False)


def _trees(img: Image.Image, rng: random.Random, pts: list, color: RGB, depth: float) -> None:
    draw = ImageDraw.Draw(img)
    w, h = img.size
    x = rng.uniform(0, 4)
    while x < w:
        i = min(len(pts) - 2, int(x / w * (len(pts) - 1)))
        (x0, y0), (x1, y1) = pts[i], pts[i + 1]
        y = y0 + (y1 - y0) * ((x - x0) / max(1e-6, x1 - x0))
        th = h * rng.uniform(0.04, 0.1) * (0.6 + depth)
        tw = th * rng.uniform(0.3, 0.42)
        for tier in range(3):
            top = y - th + tier * th * 0.28
            draw.polygon([(x, top), (x - tw / 2 * (0.6 + tier * 0.25), top + th * 0.45),
                          (x + tw / 2 * (0.6 + tier * 0.25), top + th * 0.45)], fill=color)
        draw.line((x, y - th * 0.3, x, y + 2), fill=color, width=max(1, int(tw / 6)))
        x += tw * rng.uniform(0.35, 0.9)


def land_forest(img: Image.Image, rng: random.Random, scene: Any) -> Image.Image:
    img = _layers(img, rng, scene, (60, 96, 110), 2, 0.48, 0.06, 0.12, 0.5, True)
    return _layers(img, rng, scene, (30, 78, 52), 3, 0.62, 0.22, 0.05, 0.5, True, _trees)


def land_desert(img: Image.Image, rng: random.Random, scene: Any) -> Image.Image:
    sand = mix((226, 160, 92), scene.horizon, 0.2)

    def crest(im: Image.Image, _rng: random.Random, pts: list, color: RGB, depth: float) -> None:
        ImageDraw.Draw(im).line(pts, fill=mix(color, (255, 232, 190), 0.35), width=max(1, int(1 + depth * 2)))

    img = _layers(img, rng, scene, (120, 80, 70), 1, 0.55, 0.0, 0.12, 0.5, False)
    for i in range(4):
        depth = i / 3
        base = img.size[1] * (0.6 + 0.11 * i)
        color = mix(mix(sand, scene.dark, 0.15 + 0.45 * depth), scene.horizon, 0.5 * (1 - depth))
        pts = ridge(rng, img.size[0], base, img.size[1] * 0.06, 0.5, True)
        fill_below(img, pts, color)
        crest(img, rng, pts, color, depth)
    return img


def land_city(img: Image.Image, rng: random.Random, scene: Any) -> Image.Image:
    w, h = img.size
    img = _layers(img, rng, scene, (70, 80, 110), 1, 0.6, 0.0, 0.08, 0.5, True)
    lit = scene.hour in ("night", "sunset", "dawn")
    for layer in range(2):
        draw = ImageDraw.Draw(img)
        base = h * (0.74 + 0.06 * layer)
        color = mix(scene.dark, scene.horizon, 0.5 if layer == 0 else 0.12)
        x = rng.uniform(-10, 0)
        while x < w:
            bw, bh = w * rng.uniform(0.025, 0.08), h * rng.uniform(0.08, 0.42) * (1 - 0.3 * layer)
            draw.rectangle((x, base - bh, x + bw, h), fill=color)
            if rng.random() < 0.2:
                draw.line((x + bw / 2, base - bh, x + bw / 2, base - bh - h * 0.05), fill=color)
            if lit and layer == 1:
                for wy in range(int(base - bh + 3), int(base), 4):
                    for wx in range(int(x + 2), int(x + bw - 2), 4):
                        if rng.random() < 0.3:
                            draw.rectangle((wx, wy, wx + 1, wy + 1), fill=(255, 214, 140))
            x += bw + rng.uniform(0, w * 0.01)
        if scene.fog and layer == 0:
            img = fog(img, base, h * 0.08, mix(scene.horizon, (255, 255, 255), 0.15), 0.5)
    return img


def land_meadow(img: Image.Image, rng: random.Random, scene: Any) -> Image.Image:
    w, h = img.size
    img = _layers(img, rng, scene, (70, 140, 80), 3, 0.58, 0.2, 0.06, 0.5, True)
    draw = ImageDraw.Draw(img)
    if rng.random() < 0.6:
        tx, ty = rng.uniform(0.15, 0.85) * w, h * 0.72
        crown = h * rng.uniform(0.07, 0.11)
        draw.line((tx, ty, tx, ty - crown * 1.4), fill=scene.dark, width=max(2, int(crown / 7)))
        draw.ellipse((tx - crown, ty - crown * 2.5, tx + crown, ty - crown * 0.8), fill=mix(scene.dark, (30, 70, 40), 0.4))
    colors = [(255, 120, 170), (255, 226, 90), (250, 250, 255), (176, 120, 255), (255, 150, 80)]
    for _ in range(int(w * h / 90)):
        y = h * (0.8 + 0.2 * rng.random() ** 0.7)
        r = 0.5 + (y / h - 0.78) * 9 * rng.uniform(0.5, 1.2)
        x = rng.uniform(0, w)
        c = mix(rng.choice(colors), scene.horizon, 0.2)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=c)
    return img


def snowfall(img: Image.Image, rng: random.Random) -> None:
    w, h = img.size
    draw = ImageDraw.Draw(img)
    for _ in range(int(w * h / 260)):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.3, 1.3)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=mix(img.getpixel((int(x), int(y))), (245, 248, 255), 0.7))
