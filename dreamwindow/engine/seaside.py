"""Sea-side pieces of the dream painter: open water, frozen water, sea cliffs, and the fog veil of misty prompts.

Split from scenery.py to keep modules small; same conventions: draw on the work canvas with Pillow only, every
random choice from the scene's seeded generator, so the same prompt and seed give the same pixels.
"""

from __future__ import annotations

import math
import random
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from dreamwindow.engine.scenery import RGB, _column, fog, mix, ridge


def land_ocean(img: Image.Image, rng: random.Random, scene: Any) -> Image.Image:
    w, h = img.size
    horizon = int(h * scene.sea_level)
    if scene.cliffs:
        headland(img, rng, scene, horizon, far=True)
    elif rng.random() < 0.6:
        x0 = rng.uniform(-0.2, 0.6) * w
        pts = [(x, y) for x, y in ridge(rng, w, horizon, h * 0.07, 0.5) if x0 < x < x0 + w * 0.45]
        if len(pts) > 2:
            ImageDraw.Draw(img).polygon([(pts[0][0], horizon)] + pts + [(pts[-1][0], horizon)],
                                        fill=mix(scene.dark, scene.horizon, 0.6))
    if scene.frozen:
        _ice(img, rng, scene, horizon)
    else:
        _water(img, rng, scene, horizon)
    if scene.fog:
        img = fog(img, horizon, h * 0.08, mix(scene.horizon, (255, 255, 255), 0.2), 0.6)
    if scene.cliffs:                             # after the low fog band: the near cliff stands in front of it
        headland(img, rng, scene, horizon, far=False)
    return img


def _water(img: Image.Image, rng: random.Random, scene: Any, horizon: int) -> None:
    w, h = img.size
    deep = mix(scene.top, scene.dark, 0.45)
    water = _column([mix(mix(scene.horizon, scene.mid, 0.35), deep, (y / max(1, h - horizon)) ** 0.7)
                     for y in range(h - horizon)], w)
    img.paste(water, (0, horizon))
    draw = ImageDraw.Draw(img)
    sun_x = scene.sun_xy[0]  # the glitter path lies under the sun or moon actually in the sky
    for _ in range(int(w * 1.2)):
        t = rng.random() ** 1.6
        y = horizon + 1 + t * (h - horizon)
        length = w * (0.01 + 0.06 * t) * rng.uniform(0.4, 1.4)
        x = rng.gauss(sun_x, w * (0.03 + 0.1 * t)) if rng.random() < 0.45 else rng.uniform(0, w)
        near_sun = math.exp(-((x - sun_x) / (w * 0.12)) ** 2)
        color = mix(mix(scene.horizon, deep, t * 0.5), scene.sun, 0.65 * near_sun)
        draw.line((x - length / 2, y, x + length / 2, y), fill=color, width=1 if t < 0.5 else 2)


def _ice(img: Image.Image, rng: random.Random, scene: Any, horizon: int) -> None:
    """A frozen lake: a still, pale sheet with a soft blurred glow under the sun or moon and a few cracks."""
    w, h = img.size
    far = mix(scene.horizon, (236, 242, 250), 0.45)
    near = mix(mix(scene.mid, (196, 212, 232), 0.5), scene.dark, 0.3)
    sheet = _column([mix(far, near, (y / max(1, h - horizon)) ** 0.8) for y in range(h - horizon)], w)
    img.paste(sheet, (0, horizon))
    # The reflection on ice is a broad soft smear, not the glitter path of waves; drawn small and enlarged.
    k = 8
    mask = Image.new("L", (max(1, w // k), max(1, (h - horizon) // k)), 0)
    sx = scene.sun_xy[0] / k
    ImageDraw.Draw(mask).ellipse((sx - w * 0.05 / k, -2, sx + w * 0.05 / k, (h - horizon) * 0.8 / k), fill=110)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1, w // (k * 30)))).resize((w, h - horizon))
    glow = Image.new("RGB", (w, h - horizon), mix(scene.sun, far, 0.3))
    img.paste(glow, (0, horizon), mask)
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(7, 12)):
        t = rng.random() ** 0.8                  # nearer cracks are longer and wider apart (perspective)
        x, y = rng.uniform(0, w), horizon + 2 + t * (h - horizon - 4)
        pts = [(x, y)]
        for _ in range(rng.randint(3, 6)):
            x += rng.uniform(-1, 1) * w * (0.03 + 0.08 * t)
            y = min(h - 1, max(horizon + 1, y + rng.uniform(-1, 1) * h * 0.012 * (0.3 + t)))
            pts.append((x, y))
        draw.line(pts, fill=mix(mix(far, near, t), scene.dark, 0.3), width=1 if t < 0.6 else 2)


def headland(img: Image.Image, rng: random.Random, scene: Any, horizon: int, far: bool) -> None:
    """A sea cliff: a rough top and a steep face dropping into the water. The near one stands tall at one side
    and reaches the bottom edge; the far one sits on the horizon at the other side, faded by the air."""
    w, h = img.size
    if far:
        side = rng.choice((-1, 1))
        scene.cliff_side = -side                 # the near cliff stands on the other side
        width, top, bottom = w * rng.uniform(0.18, 0.3), horizon - h * rng.uniform(0.08, 0.14), horizon + 1
        color = mix(scene.dark, scene.horizon, 0.62)
    else:
        side = scene.cliff_side
        width, top, bottom = w * rng.uniform(0.26, 0.4), h * rng.uniform(0.2, 0.32), h
        color = mix(scene.dark, scene.horizon, 0.12)
    # A rough top that falls away toward the sea and rounds off into the face.
    drop = (bottom - top) * rng.uniform(0.12, 0.22)
    crest = [(x * width / w, y + drop * (x / w) ** 2.2)
             for x, y in ridge(rng, w, top, h * 0.035, 0.62)]
    end_x, end_y = crest[-1]
    face = []
    ledge = rng.uniform(0.3, 0.6)                # one ledge part-way down breaks the wall into two steps
    for i in range(1, 13):
        f = i / 12
        out = w * (0.03 * f + (0.03 if f > ledge else 0.0) + 0.04 * f ** 3)  # the foot spreads into scree
        face.append((end_x + out + rng.uniform(-1, 1) * w * 0.008, end_y + (bottom - end_y) * f))
    outline = [(0, bottom)] + crest + face + [(0, bottom)]
    if side > 0:                                 # mirror onto the right edge
        outline = [(w - x, y) for x, y in outline]
    draw = ImageDraw.Draw(img)
    draw.polygon(outline, fill=color)
    # A rim of light along the top edge, as on the dune crests: it reads as rock against the sky.
    rim = [(w - x, y) if side > 0 else (x, y) for x, y in crest]
    draw.line(rim, fill=mix(color, scene.horizon, 0.35), width=max(1, h // 300))
    if not far and not scene.frozen:             # surf where the face meets the water
        fx = face[-1][0]
        for _ in range(18):
            x = fx + rng.uniform(-0.01, 0.05) * w
            y = horizon + rng.uniform(0.05, 0.6) * (h - horizon)
            x = w - x if side > 0 else x
            draw.line((x - w * 0.02, y, x + w * 0.02, y), fill=mix(scene.horizon, (255, 255, 255), 0.5))


def veil(img: Image.Image, horizon: float, color: RGB, strength: float) -> Image.Image:
    """Fog over the whole scene: thickest at the horizon, thinning upward into the sky and toward the viewer,
    so the far world melts into it and the foreground still shows through."""
    w, h = img.size
    rows = []
    for y in range(h):
        d = (y - horizon) / h
        spread = 0.22 if d < 0 else 0.3
        rows.append(int(255 * strength * (0.4 + 0.6 * math.exp(-((d / spread) ** 2)))))
    col = Image.new("L", (1, h))
    col.putdata(rows)
    return Image.composite(Image.new("RGB", img.size, color), img, col.resize((w, h)))
