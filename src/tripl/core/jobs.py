"""Background jobs on Huey.

Embedded: a SQLite-backed queue file in the data directory, consumed by threads inside the
API process. Scaled out: `TRIPL_QUEUE_URL=redis://…` and any number of `tripl-server worker`
processes. Job functions are registered here by name at import time and bound to a queue
when one is built, so tests and processes can build queues from their own settings.

Durable job state (progress, errors, results users look at) lives in database rows owned by
each domain; the queue message only says "work on row X".
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import Result
from huey.consumer import Consumer

if TYPE_CHECKING:
    from tripl.core.context import TriplContext

log = logging.getLogger(__name__)

# Modules whose import registers jobs; every process loads all of them.
JOB_MODULES = [
    "tripl.workspace.auth.jobs",
    "tripl.observe.scans.jobs",
    "tripl.observe.scans.scheduling",
    "tripl.observe.scans.preview",
]

JobFn = Callable[..., Any]


@dataclass(frozen=True)
class JobSpec:
    name: str
    fn: JobFn
    retries: int = 0
    retry_delay: int = 0
    schedule: dict[str, str] | None = None  # crontab fields for periodic jobs


_registry: dict[str, JobSpec] = {}


def job(name: str, *, retries: int = 0, retry_delay: int = 0) -> Callable[[JobFn], JobFn]:
    """Register `fn(ctx, **kwargs)` as a job that can be enqueued by name."""

    def register(fn: JobFn) -> JobFn:
        _registry[name] = JobSpec(name, fn, retries, retry_delay)
        return fn

    return register


def periodic_job(name: str, **cron: str) -> Callable[[JobFn], JobFn]:
    """Register `fn(ctx)` to run on a crontab schedule, once per slot across all workers."""

    def register(fn: JobFn) -> JobFn:
        _registry[name] = JobSpec(name, fn, schedule=cron)
        return fn

    return register


_warm_ups: list[Callable[[], None]] = []


def worker_warm_up(fn: Callable[[], None]) -> Callable[[], None]:
    """Register `fn()` to run once when a worker starts consuming, before its first job: what
    every job would otherwise pay for on first use (lazy imports) is paid at start-up instead."""
    _warm_ups.append(fn)
    return fn


def _warm_up() -> None:
    for fn in _warm_ups:
        fn()


def load_job_modules() -> None:
    for module in JOB_MODULES:
        importlib.import_module(module)


class _EmbeddedConsumer(Consumer):
    """Consumer threads inside another program: leave its signal handlers alone."""

    def _set_signal_handlers(self) -> None:
        return None


class JobQueue:
    def __init__(self, url: str, context: TriplContext, *, name: str = "tripl") -> None:
        self.url = url
        self.context = context
        self.huey = _make_huey(url, name)
        self._consumer: Consumer | None = None
        self._tasks: dict[str, Any] = {}
        load_job_modules()
        for spec in _registry.values():
            self._bind(spec)

    @property
    def backend(self) -> str:
        return "redis" if isinstance(self.huey, RedisHuey) else "sqlite"

    def enqueue(self, name: str, **kwargs: Any) -> Result:
        if name not in self._tasks:
            raise KeyError(f"unknown job {name!r}")
        result: Result = self._tasks[name](**kwargs)
        return result

    def start_consumer(self, threads: int, *, periodic: bool = True) -> Consumer:
        _warm_up()
        consumer = _EmbeddedConsumer(
            self.huey, workers=threads, worker_type="thread", periodic=periodic, max_delay=1.0
        )
        consumer.start()
        self._consumer = consumer
        return consumer

    def run_consumer_forever(self, threads: int, *, periodic: bool = True) -> None:
        _warm_up()
        consumer = self.huey.create_consumer(workers=threads, worker_type="thread", periodic=periodic)
        consumer.run()

    def stop_consumer(self) -> None:
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None

    def _bind(self, spec: JobSpec) -> None:
        context = self.context

        def run(**kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                return spec.fn(context, **kwargs)
            finally:
                log.info("job %s finished in %.3fs", spec.name, time.monotonic() - started)

        run.__name__ = spec.name
        if spec.schedule is None:
            self._tasks[spec.name] = self.huey.task(
                name=spec.name, retries=spec.retries, retry_delay=spec.retry_delay
            )(run)
            return

        huey = self.huey

        def run_once_per_slot() -> Any:
            # Every consumer's scheduler fires periodic tasks; the first to claim the slot runs it.
            slot = huey._get_timestamp().strftime("%Y%m%d%H%M")
            if not huey.storage.put_if_empty(f"periodic:{spec.name}:{slot}", b"1"):
                return None
            return run()

        run_once_per_slot.__name__ = spec.name
        self._tasks[spec.name] = huey.periodic_task(crontab(**spec.schedule), name=spec.name)(
            run_once_per_slot
        )


def _make_huey(url: str, name: str) -> Huey:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, utc=True)
    if url.startswith("sqlite:///"):
        return SqliteHuey(name, filename=url.removeprefix("sqlite:///"), utc=True)
    raise ValueError(f"unsupported queue URL {url!r}: use redis://… or sqlite:///path")
