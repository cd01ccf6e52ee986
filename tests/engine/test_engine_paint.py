"""The painter: deterministic, different per prompt, fast enough."""

from __future__ import annotations

import time

import pytest

from PIL import ImageStat

from dreamwindow.engine.paint import paint, preview


def test_same_prompt_and_seed_same_pixels():
    a = paint("a misty forest at dawn", 42, 320, 200)
    assert a.size == (320, 200) and a.mode == "RGB"
    assert a.tobytes() == paint("a misty forest at dawn", 42, 320, 200).tobytes()
    assert a.tobytes() != paint("a misty forest at dawn", 43, 320, 200).tobytes()


def test_prompts_look_different():
    ocean = ImageStat.Stat(paint("ocean waves on a calm sea, day", 1, 256, 256)).mean
    desert = ImageStat.Stat(paint("desert dunes at sunset", 1, 256, 256)).mean
    # The sea is blue (blue above red); dunes at sunset are warm (red well above blue).
    assert ocean[2] > ocean[0] and desert[0] > desert[2] + 30
    night = ImageStat.Stat(paint("city at night under stars", 1, 256, 256)).mean
    snow = ImageStat.Stat(paint("snowy mountains, winter day", 1, 256, 256)).mean
    assert sum(snow) > sum(night) + 200


def test_not_noise_and_fast():
    start = time.perf_counter()
    img = paint("aurora over a frozen lake", 7, 768, 512)
    assert time.perf_counter() - start < 1.5      # about 0.1 s here; generous for slow CI
    # A painting has large smooth areas: neighbouring pixels are close, unlike random noise.
    px = img.load()
    diffs = [abs(px[x, 100][1] - px[x + 1, 100][1]) for x in range(0, 760)]
    assert sum(diffs) / len(diffs) < 12


def test_preview_sharpens_with_steps():
    final = paint("mountain valley in fog", 3, 512, 512)

    def distance(step):
        p = preview(final, step, 10, 128, 3)
        ref = final.resize(p.size)
        return sum(abs(a - b) for a, b in zip(p.convert("L").tobytes(), ref.convert("L").tobytes()))

    assert distance(1) > distance(5) > distance(10)


def _specks(img, top: float, bottom: float) -> int:
    """Isolated bright points (stars, flakes) in a band of rows: brighter than all four neighbours."""
    lum = img.convert("L")
    px, (w, h) = lum.load(), lum.size
    return sum(
        1
        for y in range(max(1, int(top * h)), min(h - 1, int(bottom * h)))
        for x in range(1, w - 1)
        if all(px[x, y] - px[a, b] > 25 for a, b in ((x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)))
    )


@pytest.mark.parametrize("prompt", ["a frozen lake at night", "starry night over the sea", "aurora over a frozen lake"])
def test_stars_stay_in_the_sky(prompt):
    for seed in (1, 2):
        img = paint(prompt, seed, 384, 256)
        assert _specks(img, 0.0, 0.4) >= 5          # a starry sky...
        assert _specks(img, 0.72, 1.0) <= 1         # ...and none on the water or the ice


def test_fog_words_veil_the_scene_and_soften_the_sky():
    for seed in (1, 2):
        foggy, clear = paint("sea cliffs in fog at sunset", seed, 256, 256), paint("sea cliffs at sunset", seed, 256, 256)
        # Fog flattens contrast and greys the colours, the sky included.
        assert ImageStat.Stat(foggy.convert("L")).stddev[0] < 0.8 * ImageStat.Stat(clear.convert("L")).stddev[0]
        assert ImageStat.Stat(foggy.convert("HSV")).mean[1] < 0.7 * ImageStat.Stat(clear.convert("HSV")).mean[1]
        sky = (0, 0, 256, 60)
        assert (ImageStat.Stat(foggy.crop(sky).convert("HSV")).mean[1]
                < 0.7 * ImageStat.Stat(clear.crop(sky).convert("HSV")).mean[1])


def test_sea_cliffs_stand_at_one_side():
    for seed in (1, 2, 3):
        cliffs = paint("sea cliffs at sunset", seed, 256, 256).convert("L")
        sea = paint("sea at sunset", seed, 256, 256).convert("L")
        # High up at one edge: dark rock with cliffs, open sky without them.
        edge = min(cliffs.getpixel((3, 90)), cliffs.getpixel((252, 90)))
        assert edge < min(sea.getpixel((3, 90)), sea.getpixel((252, 90))) - 30


@pytest.mark.parametrize("prompt", ["sea cliffs in fog", "aurora over a frozen lake", "misty pine forest at night"])
def test_new_features_stay_deterministic_and_fast(prompt):
    start = time.perf_counter()
    img = paint(prompt, 11, 768, 512)
    assert time.perf_counter() - start < 1.5      # about 0.1-0.25 s here; generous for slow CI
    assert img.tobytes() == paint(prompt, 11, 768, 512).tobytes()
