"""Project overview figures: plan growth per day and the busiest events."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, SQLColumnExpression, func, select
from sqlalchemy.orm import Session

from tripl.core.db import utcnow
from tripl.observe.metrics.models import MetricPoint, MetricScopeType
from tripl.observe.metrics.schemas import OverviewKpiSeriesResponse, TopEventResponse
from tripl.observe.metrics.service import project_scans
from tripl.plan.branches.service import main_branch
from tripl.plan.events.models import Event
from tripl.plan.projects.models import Project


def _day_of(column: SQLColumnExpression[datetime], dialect: str) -> ColumnElement[object]:
    # PostgreSQL would take the session time zone for date(); SQLite stores UTC already.
    if dialect == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def kpi_series(db: Session, project: Project, days: int) -> OverviewKpiSeriesResponse:
    """Events created on main per UTC day for the last `days` days (today included), oldest first."""
    today = utcnow().date()
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=utcnow().tzinfo)
    day = _day_of(Event.created_at, db.get_bind().dialect.name)
    counts = {
        str(key)[:10]: int(n)
        for key, n in db.execute(
            select(day, func.count())
            .where(Event.branch_id == main_branch(db, project).id, Event.created_at >= since)
            .group_by(day)
        ).all()
    }
    return OverviewKpiSeriesResponse(
        days=days,
        active_events=[counts.get((first + timedelta(days=i)).isoformat(), 0) for i in range(days)],
    )


def top_events(db: Session, project: Project, window_hours: int, limit: int) -> list[TopEventResponse]:
    """Busiest events by volume summed across scans over the last `window_hours`."""
    total = func.sum(MetricPoint.count).label("total")
    rows = db.execute(
        select(Event.id, Event.name, Event.event_type_id, total)
        .join(MetricPoint, MetricPoint.event_id == Event.id)
        .where(
            Event.project_id == project.id,
            MetricPoint.scan_config_id.in_(project_scans(project)),
            MetricPoint.scope_type == MetricScopeType.event,
            MetricPoint.bucket >= utcnow() - timedelta(hours=window_hours),
        )
        .group_by(Event.id, Event.name, Event.event_type_id)
        .order_by(total.desc(), Event.name, Event.id)
        .limit(limit)
    ).all()
    return [
        TopEventResponse(event_id=event_id, name=name, event_type_id=type_id, total_count=int(n))
        for event_id, name, type_id, n in rows
    ]
