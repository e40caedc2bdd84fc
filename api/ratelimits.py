"""Per-key request rate and per-address failed-key limits (moving windows, in memory).

Built on the ``limits`` library (moving-window strategy over its in-memory storage); one
process holds the counters, as one process owns the service (see ``api/README.md``).
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.errors import RateLimited


class RateLimits:
    """Counters of requests per API key and of failed authentications per client address.

    Parameters
    ----------
    requests_per_minute
        Requests one key may make in any 60 s.
    failures_per_minute
        Requests without a valid key one address may make in any 60 s.
    """

    def __init__(self, *, requests_per_minute: int, failures_per_minute: int) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._requests = RateLimitItemPerMinute(requests_per_minute)
        self._failures = RateLimitItemPerMinute(failures_per_minute)

    def _retry_after(self, item: RateLimitItemPerMinute, *identifiers: str) -> float:
        return self._limiter.get_window_stats(item, *identifiers).reset_time - time.time()

    def check_address(self, address: str) -> None:
        """Raise :class:`RateLimited` while ``address`` is over its failed-key limit."""
        if not self._limiter.test(self._failures, "fail", address):
            raise RateLimited(
                "X-API-Key",
                f"at most {self._failures.amount} requests without a valid key per minute "
                "from one address",
                self._retry_after(self._failures, "fail", address),
            )

    def failed(self, address: str) -> None:
        """Count one request without a valid key from ``address``."""
        self._limiter.hit(self._failures, "fail", address)

    def hit(self, key_id: int) -> None:
        """Count one request of key ``key_id``; raise :class:`RateLimited` over the limit."""
        if not self._limiter.hit(self._requests, "key", str(key_id)):
            raise RateLimited(
                "X-API-Key",
                f"at most {self._requests.amount} requests per minute per key",
                self._retry_after(self._requests, "key", str(key_id)),
            )
