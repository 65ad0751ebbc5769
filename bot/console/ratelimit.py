"""Login rate limiting: failed attempts per username and per client address in a sliding window."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable


class LoginLimiter:
    """In memory: the console is one process, and a restart forgetting old failures is harmless."""

    def __init__(self, *, per_user: int = 5, per_address: int = 20, window_seconds: float = 900,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = {"user": per_user, "address": per_address}
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def retry_after(self, username: str, address: str) -> int:
        """Seconds until another attempt is allowed; 0 when it is allowed now."""
        now, wait = self.clock(), 0.0
        for key in self._keys(username, address):
            failures = self._recent(key, now)
            if len(failures) >= self.limits[key[0]]:
                wait = max(wait, failures[0] + self.window - now)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        if len(self._failures) > 10_000:  # many made-up usernames: forget the ones gone quiet
            for key in [k for k in self._failures if not self._recent(k, now)]:
                del self._failures[key]
        for key in self._keys(username, address):
            self._recent(key, now).append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(("user", username.strip().lower()), None)

    def _keys(self, username: str, address: str) -> tuple[tuple[str, str], ...]:
        return ("user", username.strip().lower()), ("address", address)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures
