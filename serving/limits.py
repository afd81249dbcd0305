"""Request rates (SPEC 16): moving windows in this process's memory.

Per client address and per API key: over the configured requests per minute is 429 with ``Retry-After``
(seconds). Repeated 401s from one address are counted on ``/metrics``
(``riskmodel_auth_failures_total``); past ``serving.limits.auth_failures`` within the window the address is
answered 429 before its key is even looked at, until the window lets it through again.

The windows are kept here rather than in the ``limits`` library's memory storage: that storage starts a timer
thread to expire its entries whenever the previous one has finished (10 ms), so at the rates of one clinic each
request started a thread, which cost more than assessing a resident (issue 22). Here a key's expired hits are
dropped when the key is next asked about, and keys left empty are swept every :data:`SWEEP_EVERY` hits.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from fastapi import HTTPException, status

from riskmodel.config import RateLimits
from serving.observability import Metrics

SWEEP_EVERY = 10_000
"""Hits between sweeps of the keys whose windows have emptied (memory stays bounded by the active keys)."""


@dataclass(frozen=True)
class Rate:
    """At most ``amount`` hits in any ``seconds``-long window."""

    amount: int
    seconds: float


class MovingWindows:
    """Hits per key in moving windows (monotonic clock), safe across threads."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, ...], deque[float]] = {}
        self._window: dict[tuple[str, ...], float] = {}  # each key's window (a key is counted by one rate)
        self._lock = threading.Lock()
        self._since_sweep = 0

    def _live(self, rate: Rate, key: tuple[str, ...], now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            self._window[key] = rate.seconds
        while hits and hits[0] <= now - rate.seconds:
            hits.popleft()
        return hits

    def test(self, rate: Rate, *key: str) -> bool:
        """Whether one more hit would be within the rate (nothing is counted)."""
        with self._lock:
            return len(self._live(rate, key, time.monotonic())) < rate.amount

    def hit(self, rate: Rate, *key: str) -> bool:
        """Count a hit if it is within the rate; False (and nothing counted) when it is not."""
        now = time.monotonic()
        with self._lock:
            hits = self._live(rate, key, now)
            if len(hits) >= rate.amount:
                return False
            hits.append(now)
            self._since_sweep += 1
            if self._since_sweep >= SWEEP_EVERY:
                self._sweep(now)
            return True

    def retry_after(self, rate: Rate, *key: str) -> float:
        """Seconds until the window lets one more hit through (0 when it would now)."""
        now = time.monotonic()
        with self._lock:
            hits = self._live(rate, key, now)
            if len(hits) < rate.amount:
                return 0.0
            return hits[len(hits) - rate.amount] + rate.seconds - now

    def _sweep(self, now: float) -> None:
        """Forget the keys with no hit left in their window."""
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self._window[k]]:
            del self._hits[key], self._window[key]
        self._since_sweep = 0


class Throttle:
    def __init__(self, config: RateLimits, metrics: Metrics) -> None:
        self._windows = MovingWindows()
        self._metrics = metrics
        self._per_key = Rate(config.per_key_per_minute, 60.0)
        self._per_address = Rate(config.per_address_per_minute, 60.0)
        self._failures = Rate(config.auth_failures, float(config.auth_failure_window_seconds))

    def _refuse(self, rate: Rate, reason: str, *key: str) -> HTTPException:
        self._metrics.throttled.labels(reason).inc()
        wait = max(1, math.ceil(self._windows.retry_after(rate, *key)))
        return HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many requests ({reason}); retry after {wait} s",
            headers={"Retry-After": str(wait)},
        )

    def address(self, address: str) -> None:
        """Before the key is looked at: an address past its 401s, or over its rate, is refused."""
        if not self._windows.test(self._failures, "auth", address):
            raise self._refuse(self._failures, "auth_failures", "auth", address)
        if not self._windows.hit(self._per_address, "address", address):
            raise self._refuse(self._per_address, "address", "address", address)

    def key(self, label: str) -> None:
        if not self._windows.hit(self._per_key, "key", label):
            raise self._refuse(self._per_key, "key", "key", label)

    def failed(self, address: str) -> None:
        """A 401 from ``address``: counted on /metrics and toward the address's slow-down."""
        self._metrics.auth_failures.inc()
        self._windows.hit(self._failures, "auth", address)
