"""Cached read responses, kept correct by one database-wide plan generation counter.

Every committed transaction that wrote to a table outside `TABLES_NO_CACHED_READ_USES` adds one to
the `plan_generation` row, inside that same transaction, just before it commits. A read that
starts by reading the counter and then builds its body from the same database can keep the body
under that generation: the data it read is at least as new as the generation, and any later plan
write moves the counter on, so an older body is never served again. The hook sits on the engine
(every INSERT, UPDATE and DELETE statement passes through it, ORM flushes included), not on the
services, so a new write path cannot forget to invalidate. Only raw DBAPI cursors bypass it;
they write metric series, which no plan read uses. Users, sessions and API keys count too: a
cached response is reused only while whoever asked may still read it (see `reuse.py`). A write that
no cached read depends on may opt out with `UNCOUNTED` (recording when an API key was last used).

The caches themselves are per process (each worker fills its own): LRUs bounded in bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import DDL, BigInteger, event, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.dml import UpdateBase

from tripl.core.db import Base

# Written often (heartbeats, series, jobs, audit) and read by no cached response.
TABLES_NO_CACHED_READ_USES = frozenset(
    {
        "plan_generation",
        "metric_series",
        "metric_series_points",
        "metric_coverage_points",
        "shadow_events",
        "scan_jobs",
        "scan_preview_jobs",
        "audit_log",
    }
)
_WROTE_PLAN = "tripl_wrote_plan"
UNCOUNTED = {"tripl_uncounted": True}
"""Execution options of a write that leaves the generation alone (`stmt.execution_options(**UNCOUNTED)`)."""
GENERATION_SQL = "SELECT value FROM plan_generation WHERE id = 1"
DEFAULT_MAX_BYTES = 32 * 2**20
V = TypeVar("V")


class PlanGeneration(Base):
    """A single row counting committed plan writes."""

    __tablename__ = "plan_generation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# Schemas made with create_all (tests, benches) get the row too; the migration inserts it as well.
event.listen(
    PlanGeneration.__table__, "after_create", DDL("INSERT INTO plan_generation (id, value) VALUES (1, 0)")
)


def track_plan_writes(engine: Engine) -> None:
    event.listen(engine, "after_execute", _note_write)
    event.listen(engine, "commit", _bump_on_commit)
    event.listen(engine, "rollback", _forget_writes)


def _note_write(
    conn: Connection, statement: Any, _multiparams: Any, _params: Any, _options: Any, result: Any
) -> None:
    # A joined or aliased target has no single name: counted as a plan write, to stay safe. A
    # statement that touched no row changed nothing (the hourly session purge, mostly); an unknown
    # row count (-1) counts.
    if (
        isinstance(statement, UpdateBase)
        and getattr(statement.table, "name", None) not in TABLES_NO_CACHED_READ_USES
        and not statement.get_execution_options().get("tripl_uncounted")
        and getattr(result, "rowcount", -1) != 0
    ):
        conn.info[_WROTE_PLAN] = True


def _bump_on_commit(conn: Connection) -> None:
    if conn.info.pop(_WROTE_PLAN, False):
        conn.execute(
            update(PlanGeneration).where(PlanGeneration.id == 1).values(value=PlanGeneration.value + 1)
        )


def _forget_writes(conn: Connection) -> None:
    conn.info.pop(_WROTE_PLAN, None)


def plan_generation(db: Session | Connection) -> int | None:
    """The current generation; None when the row is missing (then nothing may be cached)."""
    value: int | None = db.execute(text(GENERATION_SQL)).scalar()
    return value


class SizedLru(Generic[V]):
    """Values by key, each with a size in bytes; least recently used dropped first once
    `max_bytes` is exceeded."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._values: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._values.get(key)
            if found is None:
                return None
            self._values.move_to_end(key)
            return found[0]

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._bytes = 0

    def put(self, key: Hashable, value: V, size: int) -> None:
        if size > self.max_bytes // 4:
            return  # one huge page would evict everything else
        with self._lock:
            self._pop(key)
            self._values[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._values.popitem(last=False)
                self._bytes -= dropped

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._pop(key)

    def _pop(self, key: Hashable) -> None:
        previous = self._values.pop(key, None)
        if previous is not None:
            self._bytes -= previous[1]
