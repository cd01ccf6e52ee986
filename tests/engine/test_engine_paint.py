"""The painter: deterministic, different per prompt, fast enough."""

from __future__ import annotations

import time

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
