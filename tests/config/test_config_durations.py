from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dreamwindow.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90), ("10m", 600), ("1h30m", 5400), ("250ms", 0.25), ("2.5s", 2.5), ("1h", 3600),
        ("1d", 86400), ("1m30s", 90), ("1s500ms", 1.5), ("1h 30m", 5400), ("90", 90), ("0", 0), (" 5s ", 5),
        ("1.5h", 5400), ("10M", 600), (42, 42), (0.5, 0.5),
    ],
)
def test_parses(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "   ", "abc", "10x", "m", "-5", "-5s", "30m1h", "1h1h", "5 s s", "1:30",
                                  "s10"])
def test_rejects_with_examples(text: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(text)
    assert "90s" in str(info.value) or "largest" in str(info.value)


@pytest.mark.parametrize("value", [True, False, None, [], -1, float("nan"), float("inf")])
def test_rejects_non_durations(value: object) -> None:
    with pytest.raises(DurationError):
        parse_duration(value)  # type: ignore[arg-type]


@given(st.integers(0, 10), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59), st.integers(0, 999))
def test_composed_units_add_up(days: int, hours: int, minutes: int, seconds: int, millis: int) -> None:
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s"), (millis, "ms")]
    text = "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"
    expected = days * 86400 + hours * 3600 + minutes * 60 + seconds + millis / 1000
    assert parse_duration(text) == pytest.approx(expected)


@given(st.floats(min_value=0, max_value=10**7, allow_nan=False, allow_infinity=False))
def test_format_round_trips(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, rel=1e-6, abs=1e-6)


@given(st.text(max_size=12))
def test_never_crashes_unexpectedly(text: str) -> None:
    try:
        assert parse_duration(text) >= 0
    except DurationError:
        pass
