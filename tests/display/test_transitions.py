from __future__ import annotations

import pytest

from dreamwindow.display.transitions import EASINGS, Fade, alpha_byte, get_easing, progress

NAMES = sorted(EASINGS)
SAMPLES = [i / 100 for i in range(101)]


@pytest.mark.parametrize("name", NAMES)
def test_endpoints(name: str) -> None:
    f = get_easing(name)
    assert f(0.0) == pytest.approx(0.0, abs=1e-12)
    assert f(1.0) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_monotonic_and_in_range(name: str) -> None:
    values = [get_easing(name)(t) for t in SAMPLES]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert all(b >= a for a, b in zip(values, values[1:]))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("t", [0.0, 0.1, 0.25, 0.4, 0.5])
def test_symmetric(name: str, t: float) -> None:
    f = get_easing(name)
    assert f(1 - t) == pytest.approx(1 - f(t), abs=1e-12)


@pytest.mark.parametrize("name", ["smoothstep", "ease_in_out"])
def test_soft_ends(name: str) -> None:
    f = get_easing(name)
    assert f(0.05) < 0.05 and f(0.95) > 0.95  # slower than linear at both ends
    assert f(0.5) == pytest.approx(0.5)


def test_unknown_easing() -> None:
    with pytest.raises(ValueError, match="smoothstep"):
        get_easing("bounce")


@pytest.mark.parametrize(
    ("elapsed", "duration", "expected"),
    [(0, 4, 0.0), (1, 4, 0.25), (4, 4, 1.0), (9, 4, 1.0), (-1, 4, 0.0), (0, 0, 1.0), (5, -1, 1.0)],
)
def test_progress_clamped(elapsed: float, duration: float, expected: float) -> None:
    assert progress(elapsed, duration) == expected


@pytest.mark.parametrize(("eased", "byte"), [(0.0, 0), (1.0, 255), (0.5, 128), (-0.1, 0), (1.2, 255), (0.002, 1)])
def test_alpha_byte(eased: float, byte: int) -> None:
    assert alpha_byte(eased) == byte


@pytest.mark.parametrize("name", NAMES)
def test_fade_is_time_based(name: str) -> None:
    fade = Fade(start=100.0, duration=2.0, easing=get_easing(name))
    assert fade.eased(100.0) == 0.0 and not fade.done(100.0)
    assert fade.t(101.0) == 0.5
    assert fade.eased(101.0) == pytest.approx(get_easing(name)(0.5))
    assert fade.eased(102.0) == 1.0 and fade.done(102.0)
    assert fade.eased(500.0) == 1.0


def test_zero_duration_fade_is_a_cut() -> None:
    fade = Fade(start=5.0, duration=0.0)
    assert fade.done(5.0) and fade.eased(5.0) == 1.0
