"""A thread-safe escalation budget: how many escalation requests a minute and a day may spend.

Both windows slide (the last 60 s and the last 86 400 s), so a burst at 23:59 cannot be followed
by a second full burst at 00:00. The clock is injectable so tests can move time by hand.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from needle_router.errors import PolicyError

MINUTE_S = 60.0
DAY_S = 86_400.0


class EscalationBudget:
    """Sliding per-minute and per-day request windows; `None` means that window is unlimited."""

    def __init__(
        self,
        per_minute: int | None = None,
        per_day: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (("per_minute", per_minute), ("per_day", per_day)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise PolicyError(f"escalation budget {name} must be a non-negative integer or None, not {value!r}")
        self.per_minute = per_minute
        self.per_day = per_day
        self._clock = clock
        self._lock = threading.Lock()
        # Timestamps of spent requests; the day window is a superset of the minute window.
        self._minute: deque[float] = deque()
        self._day: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._minute and now - self._minute[0] >= MINUTE_S:
            self._minute.popleft()
        while self._day and now - self._day[0] >= DAY_S:
            self._day.popleft()

    def _room(self) -> bool:
        if self.per_minute is not None and len(self._minute) >= self.per_minute:
            return False
        return not (self.per_day is not None and len(self._day) >= self.per_day)

    def try_acquire(self) -> bool:
        """Spend one request if both windows have room; return whether it was spent."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            if not self._room():
                return False
            self._minute.append(now)
            self._day.append(now)
            return True

    def exhausted(self) -> bool:
        """True when the next `try_acquire` would fail (at this instant)."""
        with self._lock:
            self._expire(self._clock())
            return not self._room()

    def remaining(self) -> dict[str, int | None]:
        """Requests left in each window now (`None` = unlimited)."""
        with self._lock:
            self._expire(self._clock())
            return {
                "minute": None if self.per_minute is None else self.per_minute - len(self._minute),
                "day": None if self.per_day is None else self.per_day - len(self._day),
            }

    def retry_after(self) -> float:
        """Seconds until a request could be spent again (0.0 if it can be now; inf if never)."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            waits = [0.0]
            if self.per_minute is not None and len(self._minute) >= self.per_minute:
                if self.per_minute == 0:
                    return float("inf")
                waits.append(self._minute[-self.per_minute] + MINUTE_S - now)
            if self.per_day is not None and len(self._day) >= self.per_day:
                if self.per_day == 0:
                    return float("inf")
                waits.append(self._day[-self.per_day] + DAY_S - now)
            return max(waits)

    def reset(self) -> None:
        """Forget every spent request."""
        with self._lock:
            self._minute.clear()
            self._day.clear()
