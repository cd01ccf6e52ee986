"""Retry pacing and failure-streak logging.

``Backoff``: capped exponential delays with full jitter, so many clients reconnecting to one restarted server do
not arrive in lock step. ``FailureStreak``: the first failure of a streak is a warning, the rest are debug (a wall
display that logs a warning every second for a day is noise), and the first success afterwards is logged at info
with how many failures it ended.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Callable


class Backoff:
    """Delays ``base * factor**n`` capped at ``cap``, each scaled by a random factor in [1 - jitter, 1]."""

    def __init__(
        self,
        base: float = 0.5,
        cap: float = 30.0,
        factor: float = 2.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        if base <= 0 or cap < base or factor < 1 or not 0 <= jitter <= 1:
            raise ValueError("need 0 < base <= cap, factor >= 1, 0 <= jitter <= 1")
        self.base, self.cap, self.factor, self.jitter = base, cap, factor, jitter
        self._rng = rng or random.Random()
        self.attempts = 0

    def peek_ceiling(self) -> float:
        """The un-jittered delay the next call would be based on."""
        return min(self.cap, self.base * self.factor ** min(self.attempts, 64))

    def next_delay(self) -> float:
        ceiling = self.peek_ceiling()
        self.attempts += 1
        return ceiling * (1.0 - self.jitter * self._rng.random())

    def reset(self) -> None:
        self.attempts = 0


class FailureStreak:
    """Log a run of failures once at warning, then at debug with a count; log recovery at info."""

    def __init__(self, logger: logging.Logger, what: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._log = logger
        self.what = what
        self.count = 0
        self._since: float | None = None
        self._clock = clock
        self.last_error: str | None = None

    def failure(self, error: object) -> None:
        self.count += 1
        self.last_error = str(error)
        if self.count == 1:
            self._since = self._clock()
            self._log.warning("%s failed: %s (will keep retrying; further failures logged at debug)", self.what, error)
        else:
            self._log.debug("%s failed again (%d in a row): %s", self.what, self.count, error)

    def success(self) -> None:
        if self.count:
            lasted = self._clock() - (self._since or self._clock())
            self._log.info("%s recovered after %d failure(s) over %.1f s", self.what, self.count, lasted)
        self.count = 0
        self._since = None

    @property
    def failing(self) -> bool:
        return self.count > 0
