"""Everything a request or a job needs from the process, built once from Settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from tripl.config import Settings
from tripl.core.db import Database
from tripl.core.jobs import JobQueue
from tripl.core.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from tripl.core.read_cache import SizedLru
from tripl.core.reuse import ReusableResponses
from tripl.core.security import Cipher


@dataclass
class TriplContext:
    settings: Settings
    db: Database
    cipher: Cipher
    limiter: RateLimiter
    queue: JobQueue = field(init=False)
    read_cache: SizedLru[bytes] = field(default_factory=SizedLru)
    reusable: ReusableResponses = field(init=False)

    def close(self) -> None:
        self.queue.stop_consumer()
        self.db.dispose()


def build_context(settings: Settings) -> TriplContext:
    settings.ensure_data_dir()
    queue_url = settings.resolved_queue_url
    limiter: RateLimiter = (
        RedisRateLimiter(queue_url) if queue_url.startswith("redis") else MemoryRateLimiter()
    )
    context = TriplContext(
        settings=settings,
        db=Database(settings.resolved_database_url),
        cipher=Cipher(settings.resolved_encryption_key),
        limiter=limiter,
    )
    context.queue = JobQueue(queue_url, context)
    context.reusable = ReusableResponses(settings.session_cookie_name)
    return context
