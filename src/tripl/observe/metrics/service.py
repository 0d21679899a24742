"""Reading stored metric series: scope series, event aggregates, overview figures.

Every read is a fixed number of statements whatever the number of events or buckets; sums are
GROUP BYs in the database. Anomaly fields stay empty (expected/stddev/z null, forecast []) until
the monitoring area writes anomaly rows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy import ColumnElement, Select, SQLColumnExpression, func, select
from sqlalchemy.orm import Session

from tripl.core.db import utcnow
from tripl.core.errors import NotFound, Unprocessable
from tripl.observe.metrics.models import (
    BreakdownPoint,
    MetricPoint,
    MetricScopeType,
    MetricSeries,
    SeriesKind,
    SeriesPoint,
)
from tripl.observe.metrics.schemas import (
    BreakdownTimelinePoint,
    BreakdownTimelineResponse,
    EventMetricBreakdownSeries,
    EventMetricBreakdownsResponse,
    EventMetricPoint,
    EventMetricsResponse,
    ScopeType,
)
from tripl.observe.scans.models import ScanConfig
from tripl.plan.branches.service import main_branch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event
from tripl.plan.events.queries import EventFilter, id_list
from tripl.plan.projects.models import Project

DEFAULT_RANGE = timedelta(days=7)
SERIES_SCOPES = (MetricScopeType.project_total, MetricScopeType.event_type, MetricScopeType.event)


@dataclass(frozen=True)
class Window:
    """A read range [start, end) over bucket starts."""

    start: datetime
    end: datetime


def resolve_window(time_from: datetime | None, time_to: datetime | None, field: str = "from") -> Window:
    """The requested range; the last 7 days (ending now) for whatever end is omitted."""
    end = time_to or utcnow()
    start = time_from or end - DEFAULT_RANGE
    if start >= end:
        raise Unprocessable("must be earlier than the end of the range", field=field, loc="query")
    return Window(start, end)


def _in_window(column: SQLColumnExpression[datetime], window: Window) -> list[ColumnElement[bool]]:
    return [column >= window.start, column < window.end]


def project_scans(project: Project) -> Select[uuid.UUID]:
    return select(ScanConfig.id).where(ScanConfig.project_id == project.id)


def get_scan(db: Session, project: Project, scan_config_id: uuid.UUID) -> ScanConfig:
    scan = db.scalar(
        select(ScanConfig).where(ScanConfig.id == scan_config_id, ScanConfig.project_id == project.id)
    )
    if scan is None:
        raise NotFound("Scan config not found")
    return scan


def get_event(db: Session, project: Project, event_id: uuid.UUID) -> Event:
    event = db.scalar(select(Event).where(Event.id == event_id, Event.project_id == project.id))
    if event is None:
        raise NotFound("Event not found")
    return event


def get_event_type(db: Session, project: Project, event_type_id: uuid.UUID) -> EventType:
    event_type = db.scalar(
        select(EventType).where(EventType.id == event_type_id, EventType.project_id == project.id)
    )
    if event_type is None:
        raise NotFound("Event type not found")
    return event_type


def serving_scan(db: Session, scope_type: MetricScopeType, scope_id: uuid.UUID) -> ScanConfig | None:
    """The scan holding the scope's most recent metric rows (a scope may be fed by several scans)."""
    # The event / event type foreign keys are indexed; scope_ref alone is not.
    owner = MetricPoint.event_id if scope_type == MetricScopeType.event else MetricPoint.event_type_id
    return db.scalar(
        select(ScanConfig)
        .join(MetricPoint, MetricPoint.scan_config_id == ScanConfig.id)
        .where(
            owner == scope_id, MetricPoint.scope_type == scope_type, MetricPoint.scope_ref == str(scope_id)
        )
        .order_by(MetricPoint.bucket.desc())
        .limit(1)
    )


def scope_points(
    db: Session, scan: ScanConfig, scope_type: MetricScopeType, scope_ref: str, window: Window
) -> list[EventMetricPoint]:
    rows = db.execute(
        select(MetricPoint.bucket, MetricPoint.count)
        .where(
            MetricPoint.scan_config_id == scan.id,
            MetricPoint.scope_type == scope_type,
            MetricPoint.scope_ref == scope_ref,
            *_in_window(MetricPoint.bucket, window),
        )
        .order_by(MetricPoint.bucket)
    ).all()
    return [EventMetricPoint(bucket=bucket, count=int(count)) for bucket, count in rows]


def _scope_response(
    db: Session,
    scan: ScanConfig | None,
    scope_type: MetricScopeType,
    scope_ref: str,
    window: Window,
    *,
    event_id: uuid.UUID | None = None,
    event_type_id: uuid.UUID | None = None,
) -> EventMetricsResponse:
    return EventMetricsResponse(
        scope=scope_type.value,
        scan_config_id=scan.id if scan else None,
        event_id=event_id,
        event_type_id=event_type_id,
        interval=scan.interval if scan else None,
        data=scope_points(db, scan, scope_type, scope_ref, window) if scan else [],
    )


def event_metrics(db: Session, project: Project, event_id: uuid.UUID, window: Window) -> EventMetricsResponse:
    event = get_event(db, project, event_id)
    ref = str(event.id)
    scan = serving_scan(db, MetricScopeType.event, event.id)
    return _scope_response(
        db, scan, MetricScopeType.event, ref, window, event_id=event.id, event_type_id=event.event_type_id
    )


def event_type_metrics(
    db: Session, project: Project, event_type_id: uuid.UUID, window: Window
) -> EventMetricsResponse:
    event_type = get_event_type(db, project, event_type_id)
    ref = str(event_type.id)
    scan = serving_scan(db, MetricScopeType.event_type, event_type.id)
    return _scope_response(db, scan, MetricScopeType.event_type, ref, window, event_type_id=event_type.id)


def total_scan(db: Session, project: Project, scan_config_id: uuid.UUID | None) -> ScanConfig | None:
    """The given scan, else the most recently created scan of the project with a time column."""
    if scan_config_id is not None:
        return get_scan(db, project, scan_config_id)
    return db.scalar(
        select(ScanConfig)
        .where(ScanConfig.project_id == project.id, ScanConfig.time_column.is_not(None))
        .order_by(ScanConfig.created_at.desc(), ScanConfig.id)
        .limit(1)
    )


def project_total_metrics(
    db: Session, project: Project, scan_config_id: uuid.UUID | None, window: Window
) -> EventMetricsResponse:
    scan = total_scan(db, project, scan_config_id)
    ref = str(scan.id) if scan else ""
    return _scope_response(db, scan, MetricScopeType.project_total, ref, window)


def events_metrics(db: Session, project: Project, f: EventFilter, window: Window) -> EventMetricsResponse:
    """One series summed over every main-branch event matching the List Events filters."""
    conds = [
        MetricPoint.scan_config_id.in_(project_scans(project)),
        MetricPoint.scope_type == MetricScopeType.event,
        *_in_window(MetricPoint.bucket, window),
        *f.conditions(main_branch(db, project)),
    ]
    rows = db.execute(
        select(MetricPoint.bucket, func.sum(MetricPoint.count))
        .join(Event, Event.id == MetricPoint.event_id)
        .where(*conds)
        .group_by(MetricPoint.bucket)
        .order_by(MetricPoint.bucket)
    ).all()
    # Name the scan (and its interval) only when one scan fed the whole aggregate.
    scan_ids = db.scalars(
        select(MetricPoint.scan_config_id)
        .join(Event, Event.id == MetricPoint.event_id)
        .where(*conds)
        .distinct()
        .limit(2)
    ).all()
    scan = db.get(ScanConfig, scan_ids[0]) if len(scan_ids) == 1 else None
    return EventMetricsResponse(
        scope="events",
        scan_config_id=scan.id if scan else None,
        event_type_id=f.event_type_id,
        interval=scan.interval if scan else None,
        data=[EventMetricPoint(bucket=bucket, count=int(total)) for bucket, total in rows],
    )


def window_metrics(db: Session, project: Project, event_ids: Sequence[uuid.UUID], window: Window) -> bytes:
    """Per requested event (in request order): its serving scan's series and total in the window,
    as the JSON of `list[EventWindowMetricsResponse]`.

    Written straight from the rows (they already have the response's types): a page of sparklines
    is tens of thousands of points, and a model per point was most of the read's time. A test holds
    this body equal to what the response model writes.
    """
    wanted = list(dict.fromkeys(event_ids))
    if not wanted:
        return b"[]"
    found = set(db.scalars(select(Event.id).where(Event.project_id == project.id, Event.id.in_(wanted))))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"Events not found: {id_list(missing)}")
    # Each event's count series with its newest bucket (a primary-key lookup per series); an event
    # fed by several scans is served by the one with the newest data.
    newest_bucket = (
        select(func.max(SeriesPoint.bucket)).where(SeriesPoint.series_id == MetricSeries.id).scalar_subquery()
    )
    serving: dict[uuid.UUID, tuple[datetime, int, uuid.UUID]] = {}
    for series_id, event_id, scan_id, last in db.execute(
        select(MetricSeries.id, MetricSeries.event_id, MetricSeries.scan_config_id, newest_bucket).where(
            MetricSeries.kind == SeriesKind.counts,
            MetricSeries.scope_type == MetricScopeType.event,
            MetricSeries.event_id.in_(wanted),
        )
    ).all():
        if (
            event_id is not None
            and last is not None
            and (event_id not in serving or last > serving[event_id][0])
        ):
            serving[event_id] = (last, series_id, scan_id)
    intervals = dict(
        db.execute(
            select(ScanConfig.id, ScanConfig.interval).where(
                ScanConfig.id.in_({scan_id for _, _, scan_id in serving.values()})
            )
        ).all()
    )
    event_of = {series_id: event_id for event_id, (_, series_id, _) in serving.items()}
    points: dict[uuid.UUID, list[dict[str, object]]] = defaultdict(list)
    totals: dict[uuid.UUID, int] = defaultdict(int)
    for series_id, bucket, count in db.execute(
        select(SeriesPoint.series_id, SeriesPoint.bucket, SeriesPoint.count)
        .where(SeriesPoint.series_id.in_(list(event_of)), *_in_window(SeriesPoint.bucket, window))
        .order_by(SeriesPoint.bucket)
    ).all():
        event_id = event_of[series_id]
        points[event_id].append({"bucket": bucket, "count": count, **_NO_ANOMALY})
        totals[event_id] += count
    body = [
        {
            "event_id": event_id,
            "scan_config_id": serving[event_id][2] if event_id in serving else None,
            "interval": intervals.get(serving[event_id][2]) if event_id in serving else None,
            "total_count": totals[event_id],
            "data": points[event_id],
        }
        for event_id in wanted
    ]
    return orjson.dumps(body, option=orjson.OPT_UTC_Z)


# An EventMetricPoint's fields after bucket and count, in its order, until monitoring writes anomalies.
_NO_ANOMALY: dict[str, object] = {
    name: field.default
    for name, field in EventMetricPoint.model_fields.items()
    if name not in ("bucket", "count")
}


def event_breakdowns(
    db: Session, project: Project, event_id: uuid.UUID, column: str | None, window: Window
) -> EventMetricBreakdownsResponse:
    """One event's series per value of a breakdown column (the first configured when not named)."""
    event = get_event(db, project, event_id)
    ref = str(event.id)
    scan = serving_scan(db, MetricScopeType.event, event.id)
    configured = list(scan.metric_breakdown_columns or []) if scan else []
    configured += list(event.metric_breakdown_columns or [])
    stored = (
        db.scalars(
            select(BreakdownPoint.column)
            .where(
                BreakdownPoint.scan_config_id == scan.id,
                BreakdownPoint.scope_type == MetricScopeType.event,
                BreakdownPoint.scope_ref == ref,
            )
            .distinct()
            .order_by(BreakdownPoint.column)
        ).all()
        if scan
        else []
    )
    columns = list(dict.fromkeys([*configured, *stored]))
    if column is not None and column not in columns:
        raise Unprocessable(
            f"'{column}' is not a breakdown column of this event", field="column", loc="query"
        )
    selected = column or (columns[0] if columns else None)
    series: list[EventMetricBreakdownSeries] = []
    if scan is not None and selected is not None:
        grouped: dict[tuple[str, bool], list[EventMetricPoint]] = defaultdict(list)
        for value, is_other, bucket, count in db.execute(
            select(BreakdownPoint.value, BreakdownPoint.is_other, BreakdownPoint.bucket, BreakdownPoint.count)
            .where(
                BreakdownPoint.scan_config_id == scan.id,
                BreakdownPoint.scope_type == MetricScopeType.event,
                BreakdownPoint.scope_ref == ref,
                BreakdownPoint.column == selected,
                *_in_window(BreakdownPoint.bucket, window),
            )
            .order_by(BreakdownPoint.bucket)
        ).all():
            grouped[(value, is_other)].append(EventMetricPoint(bucket=bucket, count=int(count)))
        series = [
            EventMetricBreakdownSeries(
                breakdown_value=value, is_other=is_other, total_count=sum(p.count for p in data), data=data
            )
            for (value, is_other), data in grouped.items()
        ]
        series.sort(key=lambda s: (s.is_other, -s.total_count, s.breakdown_value))
    return EventMetricBreakdownsResponse(
        event_id=event.id,
        scan_config_id=scan.id if scan else None,
        interval=scan.interval if scan else None,
        columns=columns,
        selected_column=selected,
        series=series,
    )


def series_scope(scope_type: str) -> MetricScopeType:
    """A stored-series scope named in a query; signal-only scopes have no series (422)."""
    try:
        return MetricScopeType(ScopeType(scope_type).value)
    except ValueError:
        allowed = ", ".join(s.value for s in SERIES_SCOPES)
        raise Unprocessable(f"must be one of {allowed}", field="scope_type", loc="query") from None


def breakdown_timeline(
    db: Session,
    project: Project,
    scan_config_id: uuid.UUID,
    scope_type: str,
    scope_ref: str,
    column: str,
    value: str,
    is_other: bool,
    window: Window,
) -> BreakdownTimelineResponse:
    scan = get_scan(db, project, scan_config_id)
    scope = series_scope(scope_type)
    rows = db.execute(
        select(BreakdownPoint.bucket, func.sum(BreakdownPoint.count))
        .where(
            BreakdownPoint.scan_config_id == scan.id,
            BreakdownPoint.scope_type == scope,
            BreakdownPoint.scope_ref == scope_ref,
            BreakdownPoint.column == column,
            BreakdownPoint.value == value,
            BreakdownPoint.is_other == is_other,
            *_in_window(BreakdownPoint.bucket, window),
        )
        .group_by(BreakdownPoint.bucket)
        .order_by(BreakdownPoint.bucket)
    ).all()
    return BreakdownTimelineResponse(
        scan_config_id=scan.id,
        scope_type=ScopeType(scope.value),
        scope_ref=scope_ref,
        breakdown_column=column,
        breakdown_value=value,
        is_other=is_other,
        interval=scan.interval,
        data=[BreakdownTimelinePoint(bucket=bucket, count=int(n)) for bucket, n in rows],
    )
