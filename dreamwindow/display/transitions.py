"""Time-based transition curves (pure; no pygame).

A fade's progress comes from elapsed time, never from counting frames, so a slow frame makes the fade
coarser but never longer. Every easing maps [0, 1] onto [0, 1] with f(0) = 0 and f(1) = 1, is monotonic and
symmetric (f(1 - t) = 1 - f(t)).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

Easing = Callable[[float], float]


def linear(t: float) -> float:
    return t


def smoothstep(t: float) -> float:
    """Cubic Hermite: zero slope at both ends, so the fade starts and lands softly (picframe's choice)."""
    return t * t * (3.0 - 2.0 * t)


def ease_in_out(t: float) -> float:
    """Cosine ease: half a period of cos, a touch gentler at the ends than smoothstep."""
    return 0.5 - 0.5 * math.cos(math.pi * t)


EASINGS: dict[str, Easing] = {"linear": linear, "smoothstep": smoothstep, "ease_in_out": ease_in_out}


def get_easing(name: str) -> Easing:
    try:
        return EASINGS[name]
    except KeyError:
        raise ValueError(f"unknown easing {name!r}; choose one of {', '.join(EASINGS)}") from None


def progress(elapsed: float, duration: float) -> float:
    """Linear progress in [0, 1]; a zero or negative duration is an instant cut."""
    if duration <= 0:
        return 1.0
    return min(1.0, max(0.0, elapsed / duration))


def alpha_byte(eased: float) -> int:
    """8-bit surface alpha for an eased progress value."""
    return min(255, max(0, round(eased * 255)))


@dataclass(frozen=True)
class Fade:
    """One crossfade started at ``start`` (clock seconds) lasting ``duration`` seconds."""

    start: float
    duration: float
    easing: Easing = smoothstep

    def t(self, now: float) -> float:
        return progress(now - self.start, self.duration)

    def eased(self, now: float) -> float:
        t = self.t(now)
        # Exact endpoints whatever the curve's floating-point error: the fade must land exactly on B.
        return 0.0 if t <= 0.0 else 1.0 if t >= 1.0 else min(1.0, max(0.0, self.easing(t)))

    def done(self, now: float) -> bool:
        return self.t(now) >= 1.0
