"""Metric collection: a scan's [time_from, time_to) read from the warehouse into stored series.

The window is cut into chunks on the bucket grid: `replay_chunk_interval`, or when it is unset,
a first chunk of a day (or the interval when longer), then chunks as long as that read predicts
stays quick and far below `metrics_row_limit` (`ChunkWindows`); such a chunk whose results reach
the limit is read again in halves, so only one bucket over the limit fails the run.
Per chunk the warehouse does the counting: one bucketed GROUP BY over the identity columns (plus
the app version column), and one top-values query per breakdown column and per distribution
field (built once per run; only their time bounds change per chunk). The queries run on a
warehouse thread, back to back, up to two chunks ahead of the counting. Each chunk is written in
one transaction that first deletes the chunk's stored rows of this scan, so collecting a window
again replaces it and never doubles it; the job's checkpoint and progress commit in that same
transaction. A cancel is honoured between chunks and keeps what was written (the chunks read
ahead are dropped).
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tripl.core.context import TriplContext
from tripl.observe.data_sources.models import DataSource
from tripl.observe.data_sources.service import open_for
from tripl.observe.metrics import aggregation as agg
from tripl.observe.metrics.models import SeriesKind
from tripl.observe.metrics.storage import write_chunk
from tripl.observe.scans.models import ScanConfig
from tripl.observe.scans.naming import EventIdentity, IdentityError
from tripl.observe.scans.runtime import JobControl, ScanFailed
from tripl.observe.warehouse.base import ColumnarResult, Warehouse
from tripl.observe.warehouse.buckets import as_utc, floor_bucket, interval_seconds, is_on_grid, next_bucket
from tripl.observe.warehouse.sql import (
    BUCKET_ALIAS,
    COUNT_ALIAS,
    OTHER_ALIAS,
    VALUE_ALIAS,
    ColumnSpec,
    InvalidQuery,
    WindowedSql,
    bucketed_counts_sql,
    column_alias,
    parse_base_query,
    top_values_sql,
)
from tripl.plan.branches.service import main_branch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event
from tripl.plan.projects.models import Project
from tripl.workspace.settings.service import effective

DEFAULT_KEEP_RELEASES = 10
DEFAULT_CHUNK = "1d"
# An unset chunk grows (in powers of two, up to MAX_CHUNK_GROWTH times its first size) to the
# longest one that, read at the rate of the chunk before, would take less than this and return
# at most a quarter of the row limit.
GROW_BELOW_SECONDS = 2.0
MAX_CHUNK_GROWTH = 16
# Distribution-drift fields have no configured value limit; keep their busiest values (PSI over
# the top values plus one Other share is what drift detection compares).
DRIFT_VALUES_LIMIT = 100
MAX_DETAILS = 20


@dataclass
class Plan:
    """Everything a run needs that lives in the metadata DB, read once at the start."""

    config: ScanConfig
    source: DataSource
    project_id: uuid.UUID
    index: agg.PlanIndex
    identity: EventIdentity
    row_limit: int


@dataclass(frozen=True)
class ValuesQuery:
    """One top-values query of a run: a breakdown column (scoped by the identity columns) or a
    distribution-drift field (scoped by the event type column, if any)."""

    column: str
    sql: WindowedSql
    scope_size: int
    top_n: int | None
    drift: bool
    scan_level: bool  # a scan-level breakdown column (else event-level, or drift)
    for_types: bool  # also count per event type
    total_top_n: int | None = None  # also a distribution field's project total (see ValueRows)


@dataclass(frozen=True)
class RunQueries:
    """A run's warehouse queries, built once; each chunk only swaps the time bounds."""

    counts: WindowedSql
    identity_size: int
    has_version: bool
    values: list[ValuesQuery]


@dataclass
class ChunkResults:
    """What the warehouse returned for one chunk: the counts, then one result per values query."""

    start: datetime
    end: datetime
    counts: ColumnarResult
    values: list[ColumnarResult]


@dataclass
class ReadChunk:
    """One chunk as the reader hands it over: its results (or its halves'), and how many chunks
    are expected after it (exact for a set chunk interval, an estimate while unset chunks grow;
    0 only after the last)."""

    parts: list[ChunkResults]
    chunks_left: int


class ChunkWindows:
    """Where each chunk of a run ends, decided as the reads go (on the reader's thread).

    A set `replay_chunk_interval` cuts on its own grid. Unset, the first chunk is a day (or the
    interval when longer) up to the grid; each next one is as long as the read of the one before
    predicts stays cheap (see GROW_BELOW_SECONDS), up to MAX_CHUNK_GROWTH times: every chunk
    costs its own queries and transaction, and a 30-day hourly replay of 10^7 rows took 0.31 s in
    day chunks against 0.15 s in weekly ones. Chunks that read slowly stay as they are (a day, when
    the first one already was slow), so progress and cancel stay prompt on big warehouses; after a
    chunk that had to be split (`_fetch_chunk`) the next one is half as long.
    """

    def __init__(self, chunk_interval: str, *, grows: bool, end: datetime, row_limit: int) -> None:
        self._interval = chunk_interval
        self._step = timedelta(seconds=interval_seconds(chunk_interval))
        self.grows = grows  # the chunks are tripl's to choose: they also split at the row limit
        self._end = end
        self._row_limit = row_limit
        self._growth = 1

    def end_of(self, start: datetime) -> datetime:
        """The end of the chunk starting at `start`, on the grid (or the run's end). An unset chunk
        is at least its size: a first chunk that starts off the grid takes the rest of that grid
        step too, so the read it sizes the next ones by is not a sliver."""
        if not self.grows:
            return min(next_bucket(start, self._interval), self._end)
        stop = start + self._growth * self._step
        if not is_on_grid(stop, self._interval):
            stop = next_bucket(stop, self._interval)
        return min(stop, self._end)

    def read(self, parts: list[ChunkResults], seconds: float) -> None:
        """Size the next chunk after what reading this one took."""
        if not self.grows:
            return
        if len(parts) > 1:
            self._growth = max(1, self._growth // 2)
            return
        chunk = parts[0]
        rows = max(result.row_count for result in (chunk.counts, *chunk.values))
        span = chunk.end - chunk.start
        while self._growth < MAX_CHUNK_GROWTH:
            scale = 2 * self._growth * self._step / span  # the next size up, in chunks like this one
            if rows * scale > self._row_limit // 4 or seconds * scale >= GROW_BELOW_SECONDS:
                break
            self._growth *= 2

    def chunks_left(self, start: datetime) -> int:
        """Chunks from `start` to the end at the current size (a count per chunk, not a walk: a
        replay can have thousands of chunks)."""
        if start >= self._end:
            return 0
        first_end = self.end_of(start)  # the only chunk that may start off the grid
        return 1 + math.ceil((self._end - first_end) / (self._growth * self._step))


@dataclass
class Counters:
    chunks: int = 0
    metric_rows: int = 0
    breakdown_rows: int = 0
    version_rows: int = 0
    query_rows_scanned: int = 0
    unmatched_names: set[str] = field(default_factory=set)

    def as_checkpoint(self) -> dict[str, Any]:
        return {
            "chunks": self.chunks,
            "metric_rows": self.metric_rows,
            "breakdown_rows": self.breakdown_rows,
            "version_rows": self.version_rows,
            "query_rows_scanned": self.query_rows_scanned,
            "unmatched_names": sorted(self.unmatched_names),
        }

    @classmethod
    def from_checkpoint(cls, saved: dict[str, Any] | None) -> Counters:
        saved = saved or {}
        return cls(
            chunks=int(saved.get("chunks", 0)),
            metric_rows=int(saved.get("metric_rows", 0)),
            breakdown_rows=int(saved.get("breakdown_rows", 0)),
            version_rows=int(saved.get("version_rows", 0)),
            query_rows_scanned=int(saved.get("query_rows_scanned", 0)),
            unmatched_names=set(saved.get("unmatched_names") or ()),
        )


def collect_metrics(
    ctx: TriplContext, config_id: uuid.UUID, control: JobControl, *, replay: bool
) -> dict[str, Any]:
    """Collect [control.time_from, control.time_to) of one scan config; returns the run's counters."""
    config, source = _load_scan(ctx, config_id)
    if not config.time_column or not config.interval:
        raise ScanFailed("Metric collection needs both time_column and interval on the scan config")
    if control.time_from is None or control.time_to is None:
        raise ScanFailed("Metric collection needs a time window")
    interval = config.interval.value
    start = floor_bucket(control.time_from, interval)
    end = floor_bucket(control.time_to, interval)
    saved = control.checkpoint or {}
    resume_from = datetime.fromisoformat(saved["next_chunk_from"]) if saved.get("next_chunk_from") else None
    counters = Counters.from_checkpoint(saved.get("counters") if resume_from else None)
    details: list[str] = []
    cancelled = False
    first = max(start, as_utc(resume_from)) if resume_from else start
    with _ChunkReader(ctx, source) as reader:  # the connection opens while the plan is read
        plan = _load_plan(ctx, config, source)
        try:
            base = parse_base_query(config.base_query, reader.dialect)
        except InvalidQuery as exc:
            raise ScanFailed(f"The scan's base query is not valid: {exc}") from None
        resolver = agg.Resolver(plan.identity, plan.index)  # names each identity once per run
        queries = _run_queries(plan, base, reader.dialect)
        # Unset, the chunk is ours to choose: it grows while cheap, and one that reaches the row
        # limit is read again in halves.
        ours = config.replay_chunk_interval is None
        windows = ChunkWindows(chunk_interval_of(config), grows=ours, end=end, row_limit=plan.row_limit)
        chunks_left = windows.chunks_left(first)  # from here on `windows` is the reader's
        # While a chunk is counted and written, the warehouse already runs the next ones' queries.
        reader.start(queries, plan, first, windows)
        while chunks_left:
            if counters.chunks and control.cancel_requested():
                cancelled = True
                break  # the chunks read ahead are dropped unwritten
            read = reader.next()
            chunks_left = read.chunks_left
            chunks_total = counters.chunks + len(read.parts) + chunks_left
            for number, fetched in enumerate(read.parts):  # the chunk, or its halves when it was split
                if number and control.cancel_requested():
                    cancelled = True
                    break
                _collect_chunk(
                    ctx, control, plan, resolver, queries, fetched, chunks_total, counters, details
                )
            if cancelled:
                break
    if plan.index.default_type_id is None and not config.event_type_column:
        details.append("The scan config maps rows to no event type (set event_type_id or event_type_column)")
    result: dict[str, Any] = {
        "mode": "replay" if replay else "collect",
        "time_from": start.isoformat(),
        "time_to": end.isoformat(),
        "chunks": counters.chunks,
        "metric_rows": counters.metric_rows,
        "breakdown_rows": counters.breakdown_rows,
        "version_rows": counters.version_rows,
        "query_rows_scanned": counters.query_rows_scanned,
        "unmatched_event_names": len(counters.unmatched_names),
        "details": details[:MAX_DETAILS],
    }
    if cancelled:
        result["cancelled"] = True
    return result


def chunk_interval_of(config: ScanConfig) -> str:
    """The scan's `replay_chunk_interval`; unset, one day (or the interval when longer): the first
    chunk's size, which grows while chunks are cheap (`ChunkWindows`). Every chunk costs its own
    queries and transaction: a 30-day hourly replay in hourly chunks took 20x as long as in weekly
    ones."""
    assert config.interval is not None
    if config.replay_chunk_interval is not None:
        return config.replay_chunk_interval.value
    interval = config.interval.value
    return interval if interval_seconds(interval) >= interval_seconds(DEFAULT_CHUNK) else DEFAULT_CHUNK


def _load_scan(ctx: TriplContext, config_id: uuid.UUID) -> tuple[ScanConfig, DataSource]:
    with ctx.db.sessions() as db:
        config = db.get(ScanConfig, config_id)
        if config is None:
            raise ScanFailed("The scan config no longer exists")
        source = db.get(DataSource, config.data_source_id)
        if source is None:
            raise ScanFailed("The scan config's data source no longer exists")
        db.expunge_all()
    return config, source


def _load_plan(ctx: TriplContext, config: ScanConfig, source: DataSource) -> Plan:
    with ctx.db.sessions() as db:
        project = db.get(Project, config.project_id)
        if project is None:
            raise ScanFailed("The scan config's project no longer exists")
        index = _plan_index(db, project, config)
        row_limit = config.metrics_row_limit or int(
            effective(db, ctx.settings, "runtime.metrics_row_limit_default")
        )
    try:
        identity = EventIdentity.for_config(config)
    except IdentityError as exc:
        raise ScanFailed(str(exc)) from None
    return Plan(config, source, config.project_id, index, identity, row_limit)


def _plan_index(db: Session, project: Project, config: ScanConfig) -> agg.PlanIndex:
    branch = main_branch(db, project)
    events: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    by_name: dict[str, list[tuple[uuid.UUID, uuid.UUID]]] = {}
    own: dict[str, set[uuid.UUID]] = {}
    for event_id, type_id, source_name, columns in db.execute(
        select(Event.id, Event.event_type_id, Event.source_name, Event.metric_breakdown_columns).where(
            Event.branch_id == branch.id
        )
    ).all():
        events.setdefault((type_id, source_name), event_id)
        by_name.setdefault(source_name, []).append((event_id, type_id))
        for column in columns or []:
            own.setdefault(column, set()).add(event_id)
    types: dict[str, uuid.UUID] = {
        name: type_id
        for name, type_id in db.execute(
            select(EventType.name, EventType.id).where(EventType.branch_id == branch.id)
        ).all()
    }
    default_type = config.event_type_id if config.event_type_id in set(types.values()) else None
    return agg.PlanIndex(
        events=events,
        events_by_name=by_name,
        types_by_name=types,
        default_type_id=default_type,
        own_breakdowns={column: frozenset(ids) for column, ids in own.items()},
    )


def _identity_specs(identity: EventIdentity) -> list[ColumnSpec]:
    specs = []
    for key in agg.identity_keys(identity):
        path = identity.json_path(key)
        specs.append(ColumnSpec(path[0], tuple(path[1].split("."))) if path else ColumnSpec(key))
    return specs


def _run_queries(plan: Plan, base: Any, dialect: str) -> RunQueries:
    config = plan.config
    assert config.time_column is not None and config.interval is not None
    time_column, interval, limit = config.time_column, config.interval.value, plan.row_limit + 1
    specs = _identity_specs(plan.identity)
    columns = list(specs)
    if config.app_version_column:
        columns.append(ColumnSpec(config.app_version_column))

    def counts(time_from: datetime, time_to: datetime) -> str:
        return bucketed_counts_sql(
            base, dialect, columns=columns, time_column=time_column, interval=interval,
            time_from=time_from, time_to=time_to, limit=limit,
        )  # fmt: skip

    def top_values(scope: list[ColumnSpec], column: str, top_n: int | None) -> WindowedSql:
        value_spec = ColumnSpec.parse(column, plan.identity.json_columns)
        return WindowedSql(
            lambda time_from, time_to: top_values_sql(
                base, dialect, scope_columns=scope, value_column=value_spec, top_n=top_n, limit=limit,
                time_column=time_column, interval=interval, time_from=time_from, time_to=time_to,
            ),
            dialect,
        )  # fmt: skip

    scan_columns = list(dict.fromkeys(config.metric_breakdown_columns or []))
    event_columns = [c for c in plan.index.own_breakdowns if c not in scan_columns]
    top_n = config.metric_breakdown_values_limit
    drift_fields = list(dict.fromkeys(config.distribution_drift_fields or []))
    drift_limit = top_n or DRIFT_VALUES_LIMIT
    # A distribution field that is also a scan-level column kept whole (no values limit) is
    # counted from that column's rows: one scan of the warehouse less per chunk.
    derived = {c for c in scan_columns if c in drift_fields} if top_n is None else set()
    # A scan-level column counts for every event and for the types; an event's own, for it alone.
    values = [
        ValuesQuery(
            column, top_values(specs, column, top_n), len(specs), top_n, False, True, True,
            drift_limit if column in derived else None,
        )
        for column in scan_columns
    ]  # fmt: skip
    values += [
        ValuesQuery(column, top_values(specs, column, top_n), len(specs), top_n, False, False, False)
        for column in sorted(event_columns)
    ]
    type_column = config.event_type_column
    type_specs = [ColumnSpec(type_column)] if type_column else []
    # A scan-level breakdown column already stores its per-type value rows.
    values += [
        ValuesQuery(
            field_,
            top_values(type_specs, field_, drift_limit),
            len(type_specs),
            drift_limit,
            True,
            False,
            field_ not in scan_columns,
        )
        for field_ in drift_fields
        if field_ not in derived
    ]
    return RunQueries(WindowedSql(counts, dialect), len(specs), bool(config.app_version_column), values)


class _ChunkReader:
    """The run's warehouse reads, on one dedicated thread (a connection is never shared between
    threads). The thread opens the connection while the main thread reads the plan and builds the
    queries, then reads the chunks back to back, at most two ahead of the main thread (one waiting
    to be taken, one being read), and closes the connection after the last one; so reading, closing
    and the main thread's counting and writing overlap, and no read waits for the main thread to ask
    for it."""

    def __init__(self, ctx: TriplContext, source: DataSource) -> None:
        self._warehouse = open_for(ctx, source)  # not opened yet
        self.dialect = self._warehouse.dialect
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan-warehouse")
        self._ready: queue.Queue[ReadChunk | BaseException] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._is_open = False  # touched on the reader's thread only
        self._opened = self._pool.submit(self._open)

    def __enter__(self) -> _ChunkReader:
        return self

    def _open(self) -> None:
        self._warehouse.__enter__()
        self._is_open = True

    def _close(self) -> None:
        if self._is_open:
            self._is_open = False
            self._warehouse.__exit__(None, None, None)

    def start(self, queries: RunQueries, plan: Plan, first: datetime, windows: ChunkWindows) -> None:
        """Wait for the connection (raising why it failed), then read the chunks from `first` on,
        in order, each ending where `windows` says."""
        self._opened.result()
        self._pool.submit(self._read_all, queries, plan, first, windows)

    def _read_all(self, queries: RunQueries, plan: Plan, first: datetime, windows: ChunkWindows) -> None:
        try:
            chunk_start = first
            while (chunk_end := windows.end_of(chunk_start)) > chunk_start:
                if self._stop.is_set():
                    return
                began = time.monotonic()
                parts = _fetch_chunk(self._warehouse, queries, plan, chunk_start, chunk_end, windows.grows)
                windows.read(parts, time.monotonic() - began)
                self._ready.put(ReadChunk(parts, windows.chunks_left(chunk_end)))
                chunk_start = chunk_end
        except BaseException as exc:  # the main thread raises it when it reaches this chunk
            self._ready.put(exc)
        finally:
            self._close()

    def next(self) -> ReadChunk:
        """The next chunk, waiting for it if need be."""
        item = self._ready.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def __exit__(self, *exc: object) -> None:
        # A read still running finishes and is dropped: emptying the queue frees a reader waiting
        # to hand over a chunk, which then sees the stop before reading another.
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            self._ready.get_nowait()
        self._pool.submit(self._close)  # when no read ever started
        self._pool.shutdown(wait=True)


class _RowLimitReached(ScanFailed):
    pass


def _fetch_chunk(
    warehouse: Warehouse,
    queries: RunQueries,
    plan: Plan,
    chunk_start: datetime,
    chunk_end: datetime,
    split: bool,
) -> list[ChunkResults]:
    """The chunk's query results; with `split`, a chunk whose rows reach the limit is read again as
    two halves on the bucket grid (and so on), so only a single bucket over the limit fails."""
    assert plan.config.interval is not None
    step = timedelta(seconds=interval_seconds(plan.config.interval.value))
    buckets = (chunk_end - chunk_start) // step
    try:
        counts = _run(warehouse, queries.counts.render(chunk_start, chunk_end), plan, "event counts", buckets)
        values = [
            _run(
                warehouse,
                query.sql.render(chunk_start, chunk_end),
                plan,
                f"breakdown '{query.column}'",
                buckets,
            )
            for query in queries.values
        ]
    except _RowLimitReached:
        if not split or buckets <= 1:
            raise
        middle = chunk_start + (buckets // 2) * step
        return _fetch_chunk(warehouse, queries, plan, chunk_start, middle, split) + _fetch_chunk(
            warehouse, queries, plan, middle, chunk_end, split
        )
    return [ChunkResults(chunk_start, chunk_end, counts, values)]


def _run(warehouse: Warehouse, sql: str, plan: Plan, what: str, buckets: int) -> ColumnarResult:
    result = warehouse.query_columns(sql, max_rows=plan.row_limit + 1)
    if result.row_count > plan.row_limit:
        shorter = ", or use a shorter replay_chunk_interval" if buckets > 1 else " (one bucket exceeds it)"
        raise _RowLimitReached(
            f"Metric collection reached metrics_row_limit ({plan.row_limit} rows) in the {what} query; "
            f"increase metrics_row_limit on the scan config{shorter}"
        )
    return result


def _collect_chunk(
    ctx: TriplContext,
    control: JobControl,
    plan: Plan,
    resolver: agg.Resolver,
    queries: RunQueries,
    fetched: ChunkResults,
    chunks_total: int,
    counters: Counters,
    details: list[str],
) -> None:
    """Count one chunk's results and store them with the job's checkpoint in one transaction."""
    config = plan.config
    counter = agg.ChunkCounter(resolver, config.id)
    n = queries.identity_size
    of = _columns(fetched.counts)
    counts = counter.count_events(
        agg.CountRows(
            bucket=of[BUCKET_ALIAS],
            identity=[of[column_alias(i)] for i in range(n)],
            version=of[column_alias(n)] if queries.has_version else None,
            count=of[COUNT_ALIAS],
        ),
        config.app_version_keep_releases or DEFAULT_KEEP_RELEASES,
    )
    for query, values in zip(queries.values, fetched.values, strict=True):
        of = _columns(values)
        counter.count_values(
            agg.ValueRows(
                bucket=of[BUCKET_ALIAS],
                scope=[of[column_alias(i)] for i in range(query.scope_size)],
                value=of[VALUE_ALIAS],
                other=of[OTHER_ALIAS],
                count=of[COUNT_ALIAS],
                column=query.column,
                top_n=query.top_n,
                drift=query.drift,
                for_types=query.for_types,
                for_all_events=query.scan_level,
                total_top_n=query.total_top_n,
            )
        )
    points = counter.points()

    with ctx.db.transaction() as db:
        write_chunk(
            db,
            config.id,
            plan.project_id,
            fetched.start,
            fetched.end,
            counts,
            points,
            counters.unmatched_names,
        )
        counters.chunks += 1
        counters.metric_rows += points.rows_of(SeriesKind.counts)
        counters.version_rows += points.rows_of(SeriesKind.app_version)
        counters.breakdown_rows += points.rows_of(SeriesKind.breakdown)
        counters.query_rows_scanned += counts.rows_scanned
        new_names = set(counts.unmatched) - counters.unmatched_names
        counters.unmatched_names |= set(counts.unmatched)
        control.save_in(
            db,
            {"next_chunk_from": fetched.end.isoformat(), "counters": counters.as_checkpoint()},
            chunks_done=counters.chunks,
            chunks_total=chunks_total,
            rows=counters.query_rows_scanned,
        )
    if new_names and len(details) < MAX_DETAILS:
        sample = ", ".join(sorted(new_names)[:3])
        details.append(f"{len(new_names)} event name(s) match no plan event (e.g. {sample})")


def _columns(result: ColumnarResult) -> dict[str, Any]:
    return {c.name: data for c, data in zip(result.columns, result.data, strict=True)}
