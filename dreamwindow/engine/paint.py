"""The dream painter: a procedural landscape chosen from the prompt's words and composed from the seed.

Words pick the scene (forest, ocean, desert, mountain, city, meadow, snow), the hour (day, dawn, sunset, night)
and the air (fog, aurora, stars); the seed places the sun, shapes the ridges and scatters trees, flowers and
stars. Everything derives from one ``random.Random`` seeded with a hash of (prompt, seed) and only deterministic
Pillow operations are used, so the same prompt and seed give identical pixels. Pictures are drawn at a reduced
size and enlarged, which both keeps a 768x512 picture well under half a second and gives the soft, dreamy look.
"""

from __future__ import annotations

import hashlib
import random
import re

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from dreamwindow.engine import scenery, seaside
from dreamwindow.engine.scenery import RGB, mix

WORK_SIDE = 1024           # longest side of the canvas the scene is drawn on; resizing it to the requested size
                           # smooths the edges of ridges, dunes and trees (supersampling up to 2x)

LANDSCAPES = {
    "forest": ("forest", "woods", "pine", "pines", "trees", "tree", "jungle", "grove", "birch", "woodland"),
    "ocean": ("ocean", "sea", "waves", "wave", "beach", "coast", "shore", "lake", "harbor", "island", "bay"),
    "desert": ("desert", "dunes", "dune", "sand", "sahara", "canyon", "mesa"),
    "mountain": ("mountain", "mountains", "peaks", "peak", "alps", "ridge", "valley", "cliffs", "volcano"),
    "city": ("city", "skyline", "town", "street", "tower", "towers", "metropolis", "neon", "rooftops"),
    "meadow": ("meadow", "flowers", "flower", "field", "garden", "wildflowers", "blossom", "spring", "hills"),
    "snow": ("snow", "winter", "ice", "frozen", "glacier", "frost", "snowy", "arctic"),
}
HOURS = {
    "sunset": ("sunset", "dusk", "evening", "golden", "twilight", "autumn", "amber"),
    "dawn": ("dawn", "sunrise", "morning", "daybreak"),
    "night": ("night", "stars", "starry", "moon", "moonlit", "midnight", "galaxy", "milky", "nocturne"),
    "day": ("day", "noon", "sunny", "summer", "bright", "afternoon"),
}
AIR = {
    "fog": ("fog", "foggy", "mist", "misty", "haze", "hazy", "clouds", "cloudy", "dream", "dreamy"),
    "aurora": ("aurora", "borealis", "northern"),
}
# Words that ask for thick air, not just a soft mood: they add a fog veil over the whole scene and soften the sky.
THICK_AIR = ("fog", "foggy", "mist", "misty", "haze", "hazy", "smoke", "smoky")
CLIFFS = ("cliff", "cliffs", "bluff", "bluffs", "headland", "crag", "crags")
FROZEN = ("frozen", "ice", "icy", "frost", "glacier", "arctic")
FALLING_SNOW = ("snowfall", "snowing", "snowstorm", "blizzard", "snowflakes", "flurries")
LAND_LINE = {"ocean": 0.6, "mountain": 0.62, "forest": 0.6, "desert": 0.6, "city": 0.72, "meadow": 0.62}
# sky top, sky middle, horizon, sun or moon, darkest silhouette
SKIES: dict[str, tuple[RGB, RGB, RGB, RGB, RGB]] = {
    "day": ((62, 118, 196), (132, 180, 228), (222, 232, 240), (255, 251, 236), (40, 62, 70)),
    "dawn": ((86, 104, 168), (226, 156, 168), (255, 214, 170), (255, 242, 214), (58, 50, 78)),
    "sunset": ((34, 36, 92), (196, 84, 108), (255, 168, 84), (255, 222, 150), (38, 22, 44)),
    "night": ((4, 7, 24), (18, 28, 68), (52, 60, 108), (236, 236, 255), (6, 8, 20)),
}


class Scene:
    """What the words asked for."""

    def __init__(self, prompt: str, rng: random.Random) -> None:
        words = set(re.findall(r"[a-z]+", prompt.lower()))
        self.lands = [k for k, v in LANDSCAPES.items() if words & set(v)]
        hours = [k for k, v in HOURS.items() if words & set(v)]
        self.fog = bool(words & set(AIR["fog"]))
        self.thick_air = bool(words & set(THICK_AIR))
        self.aurora = bool(words & set(AIR["aurora"]))
        # Unknown words still dream something: the prompt's own hash picks the scene, so it is stable per prompt.
        chooser = random.Random(hashlib.sha256(prompt.encode()).digest())
        if not self.lands:
            self.lands = [chooser.choice(list(LANDSCAPES))]
        self.hour = hours[0] if hours else ("night" if self.aurora else
                                            chooser.choice(["day", "sunset", "dawn", "day", "night"]))
        self.snow = "snow" in self.lands
        self.main = next((k for k in self.lands if k != "snow"), "mountain")
        self.cliffs = self.main == "ocean" and bool(words & set(CLIFFS))
        self.frozen = self.main == "ocean" and bool(words & set(FROZEN))   # a frozen lake is ice, not waves
        # Flakes in the air only when it is snowing: over a clear night sky they read as stars on the ground.
        self.snowfall = bool(words & set(FALLING_SNOW)) or (
            self.snow and bool(words & {"snow", "snowy", "winter"}) and self.hour != "night" and not self.aurora)
        self.sea_level = 0.6                     # where the water starts (ocean only; set from the seed in paint)
        self.sun_xy = (0.0, 0.0)
        self.cliff_side = 1
        if not self.fog and not hours and chooser.random() < 0.3:
            self.fog = True
        top, mid, hor, sun, dark = SKIES[self.hour]
        if self.snow:
            top, mid, hor = mix(top, (150, 170, 200), 0.25), mix(mid, (210, 225, 240), 0.3), mix(hor, (240, 246, 255), 0.4)
        if self.main == "desert" and self.hour != "night":
            hor, mid = mix(hor, (255, 196, 120), 0.3), mix(mid, (240, 170, 120), 0.2)
        if self.aurora:
            mid = mix(mid, (20, 70, 80), 0.5)
        jitter = [rng.uniform(-14, 14) for _ in range(3)]
        self.top, self.mid, self.horizon = (scenery.shift(c, jitter) for c in (top, mid, hor))
        self.sun, self.dark = sun, dark
        # Fog: a pale, greyed version of the horizon colour (dim at night); it also washes the sky out.
        grey = sum(self.horizon) // 3
        self.fog_colour = mix(mix(self.horizon, (grey, grey, grey), 0.55), (250, 250, 252),
                              0.05 if self.hour == "night" else 0.3)
        if self.thick_air:
            self.top, self.mid = mix(self.top, self.fog_colour, 0.5), mix(self.mid, self.fog_colour, 0.45)
            self.sun = mix(self.sun, self.fog_colour, 0.35)


def _seed_rng(prompt: str, seed: int) -> random.Random:
    return random.Random(hashlib.sha256(f"{prompt}\x00{seed}".encode()).digest())


def paint(prompt: str, seed: int, width: int, height: int) -> Image.Image:
    """The finished dream, as an RGB image of exactly width x height."""
    rng = _seed_rng(prompt, seed)
    scene = Scene(prompt, rng)
    scale = min(2.0, WORK_SIDE / max(width, height))
    w, h = max(8, round(width * scale)), max(8, round(height * scale))
    if scene.main == "ocean":
        scene.sea_level = rng.uniform(0.56, 0.66)
    land_line = scene.sea_level if scene.main == "ocean" else LAND_LINE[scene.main]
    img = scenery.sky(w, h, scene.top, scene.mid, scene.horizon)
    if scene.hour == "night" or scene.aurora:
        # Stars only in the sky: above the water line or the farthest land, never on the water or the ice.
        scenery.stars(img, rng, h * min(0.62, land_line - 0.03), dense=scene.hour == "night" and not scene.thick_air)
    if scene.aurora:
        img = scenery.aurora(img, rng)
    sun_y = {"night": 0.22, "day": 0.25, "dawn": 0.52, "sunset": 0.5}[scene.hour] + rng.uniform(-0.08, 0.06)
    scene.sun_xy = (rng.uniform(0.15, 0.85) * w, sun_y * h)
    img = scenery.sun(img, scene.sun_xy, h * rng.uniform(0.05, 0.08), scene.sun,
                      glow=1.5 if scene.hour in ("sunset", "dawn") or scene.thick_air else 1.0)
    if scene.thick_air:
        img = img.filter(ImageFilter.GaussianBlur(h * 0.012))  # only sky so far: a diffuse sun, no hard edges
    draw_land = seaside.land_ocean if scene.main == "ocean" else getattr(scenery, f"land_{scene.main}")
    img = draw_land(img, rng, scene)
    if scene.snowfall:
        scenery.snowfall(img, rng)
    if scene.thick_air:
        img = seaside.veil(img, h * land_line, scene.fog_colour, 0.62 if scene.hour == "night" else 0.55)
    return _finish(img, rng, width, height, scene)


def _finish(img: Image.Image, rng: random.Random, width: int, height: int, scene: Scene) -> Image.Image:
    img = img.resize((width, height), Image.Resampling.LANCZOS)
    # Soft glow: a blurred copy screened over the picture, the "bloom" that makes it feel like a dream.
    blurred = img.filter(ImageFilter.GaussianBlur(max(2, width // 60)))
    img = Image.blend(img, ImageChops.screen(img, blurred), 0.35 if scene.hour != "day" else 0.25)
    # Vignette darkens the corners a little.
    vignette = Image.radial_gradient("L").resize((width, height)).point(lambda v: max(0, v - 120) * 0.55)
    img = Image.composite(Image.new("RGB", img.size, (0, 0, 0)), img, vignette.convert("L"))
    # Film grain from the seeded generator (Pillow's own noise is not reproducible).
    grain = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    grain = grain.point(lambda v: 128 + (v - 128) // 9)
    return ImageChops.soft_light(img, Image.merge("RGB", (grain, grain, grain)))


def preview(final: Image.Image, step: int, steps: int, side: int, seed: int) -> Image.Image:
    """What the sampler 'sees' at a step: a coarse, noisy version of the final picture that sharpens."""
    t = step / max(1, steps)
    w, h = final.size
    k = side / max(w, h)
    pw, ph = max(1, round(w * k)), max(1, round(h * k))
    detail = 4 + int(60 * t * t)                # like a latent that resolves from blobs into forms
    dk = detail / max(w, h)
    small = final.resize((max(2, round(w * dk)), max(2, round(h * dk))), Image.Resampling.BILINEAR)
    img = small.resize((pw, ph), Image.Resampling.BICUBIC)
    rng = random.Random(seed * 1000003 + step)
    noise = Image.frombytes("RGB", (12, 8), rng.randbytes(12 * 8 * 3)).resize((pw, ph), Image.Resampling.BICUBIC)
    return Image.blend(img, noise, 0.55 * (1 - t) ** 1.5)



