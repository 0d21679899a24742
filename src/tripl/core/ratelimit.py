"""Fixed-window request counters per (bucket, client) used to slow down password guessing.

In-process memory for a single embedded server; Redis when the instance runs a Redis queue,
so every API replica shares one count.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis


class RateLimiter(Protocol):
    def hit(self, bucket: str, client: str, limit: int, window_seconds: int) -> int | None:
        """Count one attempt; return seconds to wait when over the limit, else None."""


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}

    def hit(self, bucket: str, client: str, limit: int, window_seconds: int) -> int | None:
        now = int(time.time())
        window = now // window_seconds
        with self._lock:
            if len(self._windows) > 100_000:
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
            start, count = self._windows.get((bucket, client), (window, 0))
            if start != window:
                count = 0
            count += 1
            self._windows[(bucket, client)] = (window, count)
        if count > limit:
            return (window + 1) * window_seconds - now
        return None

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


class RedisRateLimiter:
    def __init__(self, url: str, prefix: str = "tripl:rl") -> None:
        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def hit(self, bucket: str, client: str, limit: int, window_seconds: int) -> int | None:
        now = int(time.time())
        window = now // window_seconds
        key = f"{self._prefix}:{bucket}:{client}:{window}"
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window_seconds + 1)
        count = int(pipe.execute()[0])
        if count > limit:
            return (window + 1) * window_seconds - now
        return None
