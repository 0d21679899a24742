"""Cached read responses, kept correct by one database-wide plan generation counter.

Every committed transaction that wrote to a table outside `TABLES_NO_PLAN_READ_USES` adds one to
the `plan_generation` row, inside that same transaction, just before it commits. A read that
starts by reading the counter and then builds its body from the same database can keep the body
under that generation: the data it read is at least as new as the generation, and any later plan
write moves the counter on, so an older body is never served again. The hook sits on the engine
(every INSERT, UPDATE and DELETE statement passes through it, ORM flushes included), not on the
services, so a new write path cannot forget to invalidate. Only raw DBAPI cursors bypass it;
they write metric series, which no plan read uses.

The body cache itself is per process (each worker fills its own): an LRU bounded in bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from sqlalchemy import DDL, BigInteger, event, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.dml import UpdateBase

from tripl.core.db import Base

# Written often (heartbeats, series, sessions, audit) and read by no plan response.
TABLES_NO_PLAN_READ_USES = frozenset(
    {
        "plan_generation",
        "metric_points",
        "metric_breakdown_points",
        "metric_app_version_points",
        "metric_coverage_points",
        "shadow_events",
        "scan_jobs",
        "scan_preview_jobs",
        "user_sessions",
        "api_keys",
        "audit_log",
    }
)
_WROTE_PLAN = "tripl_wrote_plan"
DEFAULT_MAX_BYTES = 32 * 2**20


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


def _note_write(conn: Connection, statement: Any, *_: Any) -> None:
    # A joined or aliased target has no single name: counted as a plan write, to stay safe.
    if (
        isinstance(statement, UpdateBase)
        and getattr(statement.table, "name", None) not in TABLES_NO_PLAN_READ_USES
    ):
        conn.info[_WROTE_PLAN] = True


def _bump_on_commit(conn: Connection) -> None:
    if conn.info.pop(_WROTE_PLAN, False):
        conn.execute(
            update(PlanGeneration).where(PlanGeneration.id == 1).values(value=PlanGeneration.value + 1)
        )


def _forget_writes(conn: Connection) -> None:
    conn.info.pop(_WROTE_PLAN, None)


def plan_generation(db: Session) -> int | None:
    """The current generation; None when the row is missing (then nothing may be cached)."""
    return db.scalar(select(PlanGeneration.value).where(PlanGeneration.id == 1))


class BodyCache:
    """Response bodies by key, least recently used dropped first once `max_bytes` is exceeded."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()
            self._bytes = 0

    def put(self, key: Hashable, body: bytes) -> None:
        if len(body) > self.max_bytes // 4:
            return  # one huge page would evict everything else
        with self._lock:
            previous = self._bodies.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous)
            self._bodies[key] = body
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                _, dropped = self._bodies.popitem(last=False)
                self._bytes -= len(dropped)
