"""Durations as people write them in YAML: ``90s``, ``10m``, ``1h30m``, ``250ms``, ``2.5s`` or a plain number of seconds.

Kept free of YAML and pydantic so the parser is trivially testable; ``config.py`` wraps it as a field type.
"""

from __future__ import annotations

import math
import re

# Units in the order they must appear ("1h30m", not "30m1h"); "ms" before "m" so the alternation is unambiguous.
_UNITS: dict[str, float] = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_ORDER = ["d", "h", "m", "s", "ms"]
_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*(ms|d|h|m|s)", re.IGNORECASE)
_NUMBER = re.compile(r"[+]?(\d+(?:\.\d+)?|\.\d+)")

EXAMPLES = '"90s", "10m", "1h30m", "250ms", "2.5s" or a number of seconds'


class DurationError(ValueError):
    """The text is not a duration; the message says what is accepted."""


def parse_duration(value: str | int | float) -> float:
    """Return the duration in seconds (a float >= 0). Raises DurationError with a readable message."""
    if isinstance(value, bool):  # bool is an int subclass; "yes" is never a duration
        raise DurationError(f"expected a duration such as {EXAMPLES}, got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
        if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
            raise DurationError(f"a duration must be a finite number of seconds >= 0, got {value!r}")
        return seconds
    if not isinstance(value, str):
        raise DurationError(f"expected a duration such as {EXAMPLES}, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise DurationError(f"empty duration; write it like {EXAMPLES}")
    if _NUMBER.fullmatch(text):
        return float(text)
    total = 0.0
    pos = 0
    last_rank = -1
    compact = text.replace(" ", "")
    for match in _PART.finditer(compact):
        if match.start() != pos:
            break
        unit = match.group(2).lower()
        rank = _ORDER.index(unit)
        if rank <= last_rank:
            raise DurationError(f"{value!r}: units must go from largest to smallest, each once (like 1h30m)")
        last_rank = rank
        total += float(match.group(1)) * _UNITS[unit]
        pos = match.end()
    if pos != len(compact) or pos == 0:
        raise DurationError(f"{value!r} is not a duration; write it like {EXAMPLES}")
    return total


def format_duration(seconds: float) -> str:
    """The inverse for messages and the example config: 5400 -> "1h30m", 0.25 -> "250ms"."""
    if 0 < seconds < 1:
        return f"{_plain(seconds * 1000)}ms"
    parts: list[str] = []
    rest = seconds
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if rest >= size:
            count = int(rest // size)
            parts.append(f"{count}{unit}")
            rest -= count * size
    if rest or not parts:
        parts.append(f"{_plain(rest)}s")
    return "".join(parts)


def _plain(number: float) -> str:
    """A number without exponent notation (the parser reads only plain decimals)."""
    return f"{number:.6f}".rstrip("0").rstrip(".") or "0"
