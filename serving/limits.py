"""Request rates (SPEC 16), with the ``limits`` library (moving windows, in this process's memory).

Per client address and per API key: over the configured requests per minute is 429 with ``Retry-After``
(seconds). Repeated 401s from one address are counted on ``/metrics``
(``riskmodel_auth_failures_total``); past ``serving.limits.auth_failures`` within the window the address is
answered 429 before its key is even looked at, until the window lets it through again.
"""

from __future__ import annotations

import math
import time

from fastapi import HTTPException, status
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from riskmodel.config import RateLimits
from serving.observability import Metrics


class Throttle:
    def __init__(self, config: RateLimits, metrics: Metrics) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._metrics = metrics
        self._per_key = RateLimitItemPerMinute(config.per_key_per_minute)
        self._per_address = RateLimitItemPerMinute(config.per_address_per_minute)
        self._failures = RateLimitItemPerSecond(config.auth_failures, config.auth_failure_window_seconds)

    def _refuse(self, item: RateLimitItem, reason: str, *identifiers: str) -> HTTPException:
        self._metrics.throttled.labels(reason).inc()
        reset = self._limiter.get_window_stats(item, *identifiers).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        return HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many requests ({reason}); retry after {wait} s",
            headers={"Retry-After": str(wait)},
        )

    def address(self, address: str) -> None:
        """Before the key is looked at: an address past its 401s, or over its rate, is refused."""
        if not self._limiter.test(self._failures, "auth", address):
            raise self._refuse(self._failures, "auth_failures", "auth", address)
        if not self._limiter.hit(self._per_address, "address", address):
            raise self._refuse(self._per_address, "address", "address", address)

    def key(self, label: str) -> None:
        if not self._limiter.hit(self._per_key, "key", label):
            raise self._refuse(self._per_key, "key", "key", label)

    def failed(self, address: str) -> None:
        """A 401 from ``address``: counted on /metrics and toward the address's slow-down."""
        self._metrics.auth_failures.inc()
        self._limiter.hit(self._failures, "auth", address)
