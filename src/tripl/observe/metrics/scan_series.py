"""Reads of one scan's series by scope: seasonality heatmap, app versions and their adoption."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tripl.core.errors import Invalid, Unprocessable
from tripl.observe.detection.heatmap import seasonality_heatmap
from tripl.observe.metrics.models import AppVersionPoint, MetricPoint, MetricScopeType
from tripl.observe.metrics.schemas import (
    AppVersionAdoptionResponse,
    AppVersionInfo,
    AppVersionMetricSeries,
    AppVersionSeriesResponse,
    BreakdownTimelinePoint,
    EventMetricPoint,
    ScopeType,
    SeasonalityCell,
    SeasonalityHeatmapResponse,
)
from tripl.observe.metrics.service import Window, get_event, get_event_type, get_scan, series_scope
from tripl.observe.metrics.versions import release_order_key
from tripl.observe.scans.models import ScanConfig
from tripl.plan.projects.models import Project


def heatmap(
    db: Session, project: Project, scan_config_id: uuid.UUID, scope_type: str, scope_ref: str, window: Window
) -> SeasonalityHeatmapResponse:
    """Volume by weekday and UTC hour of one scope; anomaly counts stay 0 until anomalies are stored."""
    scan = get_scan(db, project, scan_config_id)
    scope = series_scope(scope_type)
    rows = db.execute(
        select(MetricPoint.bucket, func.sum(MetricPoint.count))
        .where(
            MetricPoint.scan_config_id == scan.id,
            MetricPoint.scope_type == scope,
            MetricPoint.scope_ref == scope_ref,
            MetricPoint.bucket >= window.start,
            MetricPoint.bucket < window.end,
        )
        .group_by(MetricPoint.bucket)
    ).all()
    grid = seasonality_heatmap([r[0] for r in rows], [float(r[1]) for r in rows])
    return SeasonalityHeatmapResponse(
        scan_config_id=scan.id,
        scope_type=ScopeType(scope.value),
        scope_ref=scope_ref,
        cells=[SeasonalityCell(**vars(c)) for c in grid.cells],
        max_count=grid.max_count,
        total_count=grid.total_count,
    )


def _version_scope(
    db: Session, project: Project, scan: ScanConfig, scope_type: str, scope_ref: str | None
) -> tuple[MetricScopeType, str, uuid.UUID | None, uuid.UUID | None]:
    """(scope, scope_ref, event_id, event_type_id) of an app-version read, checked against the project."""
    scope = series_scope(scope_type)
    if scope == MetricScopeType.project_total:
        if scope_ref not in (None, "", str(scan.id)):
            raise Unprocessable("a project_total scope is the scan itself", field="scope_ref", loc="query")
        return scope, str(scan.id), None, None
    try:
        ref = uuid.UUID(scope_ref or "")
    except ValueError:
        raise Unprocessable(f"must be the id of the {scope.value}", field="scope_ref", loc="query") from None
    if scope == MetricScopeType.event_type:
        return scope, str(ref), None, get_event_type(db, project, ref).id
    event = get_event(db, project, ref)
    return scope, str(ref), event.id, event.event_type_id


def app_versions(
    db: Session,
    project: Project,
    scan_config_id: uuid.UUID,
    scope_type: str,
    scope_ref: str | None,
    window: Window,
) -> AppVersionSeriesResponse:
    """Per-version series of a scope, newest release first and Other last."""
    scan = get_scan(db, project, scan_config_id)
    if not scan.app_version_column:
        raise Invalid("This scan config has no app_version_column, so it collects no app versions")
    scope, ref, event_id, event_type_id = _version_scope(db, project, scan, scope_type, scope_ref)
    grouped: dict[tuple[str, bool], list[EventMetricPoint]] = defaultdict(list)
    for version, is_other, bucket, count in db.execute(
        select(
            AppVersionPoint.version, AppVersionPoint.is_other, AppVersionPoint.bucket, AppVersionPoint.count
        )
        .where(
            AppVersionPoint.scan_config_id == scan.id,
            AppVersionPoint.scope_type == scope,
            AppVersionPoint.scope_ref == ref,
            AppVersionPoint.bucket >= window.start,
            AppVersionPoint.bucket < window.end,
        )
        .order_by(AppVersionPoint.bucket)
    ).all():
        grouped[(version, is_other)].append(EventMetricPoint(bucket=bucket, count=int(count)))
    order = sorted(grouped, key=lambda k: (not k[1], release_order_key(k[0])), reverse=True)
    latest = next((version for version, is_other in order if not is_other), None)
    series = [
        AppVersionMetricSeries(
            version=version,
            is_other=is_other,
            is_latest=not is_other and version == latest,
            total_count=sum(p.count for p in grouped[(version, is_other)]),
            data=grouped[(version, is_other)],
        )
        for version, is_other in order
    ]
    return AppVersionSeriesResponse(
        scan_config_id=scan.id,
        scope_type=ScopeType(scope.value),
        scope_ref=ref,
        event_id=event_id,
        event_type_id=event_type_id,
        app_version_column=scan.app_version_column,
        interval=scan.interval,
        latest_version=latest,
        versions=[
            AppVersionInfo(version=s.version, is_other=s.is_other, is_latest=s.is_latest) for s in series
        ],
        series=series,
    )


def version_adoption(
    db: Session, project: Project, scan_config_id: uuid.UUID, window: Window
) -> AppVersionAdoptionResponse:
    """The project-wide version series plus, per bucket, the traffic of all versions together."""
    base = app_versions(db, project, scan_config_id, MetricScopeType.project_total.value, None, window)
    totals = db.execute(
        select(AppVersionPoint.bucket, func.sum(AppVersionPoint.count))
        .where(
            AppVersionPoint.scan_config_id == base.scan_config_id,
            AppVersionPoint.scope_type == MetricScopeType.project_total,
            AppVersionPoint.scope_ref == base.scope_ref,
            AppVersionPoint.bucket >= window.start,
            AppVersionPoint.bucket < window.end,
        )
        .group_by(AppVersionPoint.bucket)
        .order_by(AppVersionPoint.bucket)
    ).all()
    return AppVersionAdoptionResponse(
        **base.model_dump(), totals=[BreakdownTimelinePoint(bucket=b, count=int(n)) for b, n in totals]
    )
