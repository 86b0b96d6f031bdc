"""Stage timings: a stopwatch that records the seconds since its previous lap by name."""

from __future__ import annotations

import time


class Laps:
    """Records, under each name given, the seconds since the previous call (or since it was
    made). A name given twice adds up (a stage entered in several pieces)."""

    def __init__(self, into: dict[str, float], prefix: str = "") -> None:
        self.into, self.prefix, self.t = into, prefix, time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        key = self.prefix + name
        self.into[key] = round(self.into.get(key, 0.0) + now - self.t, 3)
        self.t = now
