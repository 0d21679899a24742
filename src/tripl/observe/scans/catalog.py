"""Catalog run: read one grouped query from the warehouse and write what it shows into the main plan.

Steps (BEHAVIOUR.md §5): read the base query's columns (the time column is dropped); one grouped
query of distinct value combinations with counts over [now - lookback, now) (without a lookback: a
scheduled collection's own window, else the whole query),
limit `scan_row_limit + 1`, failing rather than writing a partial catalog; split rows by the
event_type_column value (auto-creating missing types) or map everything to event_type_id; analyse
each group (catalog_analysis.py); write events, values, variables and samples (catalog_writer.py);
store `catalog_state` so metric collection names rows the same way (naming.py).

All plan writes of a run happen in ONE transaction: a catalog is written whole or not at all, and
progress/cancel are checked before it starts (progress commits in its own transaction, which an
open SQLite write transaction would block). `last_seen_at` is set to the window end when the
window has a time column (metric collection later sets the exact newest bucket).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.observe.data_sources.models import DataSource
from tripl.observe.data_sources.service import open_for
from tripl.observe.scans.catalog_analysis import (
    CatalogInput,
    GroupAnalysis,
    ObservedRow,
    analyse_group,
    populated_columns,
    split_groups,
)
from tripl.observe.scans.catalog_writer import (
    TypeMapping,
    create_type,
    load_types,
    types_by_name,
    write_catalog,
)
from tripl.observe.scans.models import ScanConfig
from tripl.observe.scans.naming import (
    EVENT_NAME_FIELDS,
    SINGLE_GROUP,
    STATE_VERSION,
    EventIdentity,
    IdentityError,
    format_keys,
)
from tripl.observe.scans.runtime import JobControl, ScanFailed
from tripl.observe.warehouse.base import ColumnInfo, LogicalType
from tripl.observe.warehouse.sql import (
    COUNT_ALIAS,
    ColumnSpec,
    InvalidQuery,
    column_alias,
    describe_sql,
    grouped_counts_sql,
    parse_base_query,
)
from tripl.plan.branches.models import PlanBranch
from tripl.plan.branches.service import main_branch
from tripl.plan.event_types.models import EventType
from tripl.plan.projects.models import Project

MAX_TYPE_NAME = 100


@dataclass
class Observation:
    """What the warehouse returned for one run."""

    scalar_columns: list[str]
    json_columns: list[str]
    extracted_keys: list[str]
    rows: list[ObservedRow]
    window_end: datetime | None


def _fail_unless_identity(config: ScanConfig) -> EventIdentity:
    if config.event_type_id is None and not config.event_type_column:
        raise ScanFailed(
            "This scan config has neither an event type nor an event type column; "
            "set event_type_id or event_type_column before running it."
        )
    try:
        return EventIdentity.for_config(config)
    except IdentityError as exc:
        raise ScanFailed(str(exc)) from None


def _check_keys(config: ScanConfig, scalar: list[str], json_columns: list[str]) -> list[str]:
    """Dotted JSON keys the query must extract; fails on format/rule keys that name nothing."""

    def known(key: str) -> bool:
        return key in scalar or any(key.startswith(j + ".") and len(key) > len(j) + 1 for j in json_columns)

    keys = format_keys(config.event_name_format)
    unknown = [k for k in keys if not known(k)]
    if unknown:
        available = scalar + [f"{j}.<path>" for j in json_columns]
        raise ScanFailed(
            f"event_name_format references unknown keys: {', '.join(unknown)}. "
            f"Available keys: {', '.join(available)}"
        )
    rule_fields = [
        str(c.get("field", "")).strip()
        for rule in config.event_group_rules or []
        for c in rule.get("conditions") or []
    ]
    bad = [f for f in rule_fields if f not in EVENT_NAME_FIELDS and not known(f)]
    if bad:
        raise ScanFailed(
            f"Event group rules reference unknown fields: {', '.join(dict.fromkeys(bad))}. "
            f"Available fields: event_name, {', '.join(scalar + [f'{j}.<path>' for j in json_columns])}"
        )
    extracted: list[str] = []
    for key in [*(config.json_value_paths or []), *keys, *rule_fields]:
        if key not in scalar and key not in extracted and known(key):
            extracted.append(key)
    return extracted


def observe(
    ctx: TriplContext,
    config: ScanConfig,
    data_source: DataSource,
    now: datetime,
    fallback_window: tuple[datetime, datetime] | None = None,
) -> Observation:
    row_limit = config.scan_row_limit or ctx.settings.scan_row_limit_default
    time_from = window_end = None
    if config.time_column and config.scan_lookback_hours:
        time_from, window_end = now - timedelta(hours=config.scan_lookback_hours), now
    elif config.time_column and fallback_window is not None:
        time_from, window_end = fallback_window
    with open_for(ctx, data_source) as warehouse:
        try:
            base = parse_base_query(config.base_query, warehouse.dialect)
        except InvalidQuery as exc:
            raise ScanFailed(str(exc)) from None
        described: list[ColumnInfo] = warehouse.describe(describe_sql(base, warehouse.dialect))
        columns = [c for c in described if c.name != config.time_column]
        names = [c.name for c in columns]
        if config.event_type_column and config.event_type_column not in names:
            raise ScanFailed(
                f"The event type column {config.event_type_column!r} is not among the query's columns: "
                f"{', '.join(names)}"
            )
        json_columns = [c.name for c in columns if c.logical is LogicalType.json]
        scalar = [c.name for c in columns if c.logical is not LogicalType.json]
        extracted = _check_keys(config, scalar, json_columns)
        specs = [ColumnSpec(c) for c in scalar]
        specs += [ColumnSpec.keys_of(c) for c in json_columns]
        specs += [ColumnSpec.parse(k, json_columns) for k in extracted]
        keys = scalar + json_columns + extracted
        sql = grouped_counts_sql(
            base,
            warehouse.dialect,
            columns=specs,
            time_column=config.time_column if time_from else None,
            time_from=time_from,
            time_to=window_end,
            limit=row_limit + 1,
        )
        result = warehouse.query(sql, max_rows=row_limit + 1)
    if len(result.rows) > row_limit:
        raise ScanFailed(
            f"The scan reached the configured row limit of {row_limit} distinct value combinations; "
            "increase scan_row_limit (or narrow the query or scan_lookback_hours) and run it again."
        )
    position = {c.name: i for i, c in enumerate(result.columns)}
    aliases = [position[column_alias(i)] for i in range(len(keys))]
    count_at = position[COUNT_ALIAS]
    rows = [
        ObservedRow({key: raw[at] for key, at in zip(keys, aliases, strict=True)}, int(raw[count_at]))
        for raw in result.rows
    ]
    return Observation(scalar, json_columns, extracted, rows, window_end)


def run_catalog(
    ctx: TriplContext,
    config_id: uuid.UUID,
    control: JobControl,
    *,
    fallback_window: tuple[datetime, datetime] | None = None,
) -> dict[str, Any]:
    with ctx.db.sessions() as db:
        config = db.get(ScanConfig, config_id)
        if config is None:
            raise ScanFailed("The scan config no longer exists.")
        data_source = db.get(DataSource, config.data_source_id)
        project = db.get(Project, config.project_id)
        if data_source is None or project is None:
            raise ScanFailed("The scan config's data source no longer exists.")
        db.expunge_all()
    _fail_unless_identity(config)
    now = utcnow()
    observed = observe(ctx, config, data_source, now, fallback_window)
    summary: dict[str, Any] = {
        "events_created": 0,
        "events_skipped": 0,
        "events_grouped": 0,
        "events_merged": 0,
        "variables_created": 0,
        "columns_analyzed": 0,
        "event_types_created": 0,
        "rows_scanned": sum(r.count for r in observed.rows),
        "value_combinations": len(observed.rows),
        "details": [],
    }
    control.progress(
        stage="writing",
        rows_scanned=summary["rows_scanned"],
        value_combinations=summary["value_combinations"],
    )
    if control.cancel_requested():
        summary["details"].append("Cancelled before anything was written.")
        return summary

    spec = CatalogInput(
        scalar_columns=observed.scalar_columns,
        json_columns=observed.json_columns,
        event_type_column=config.event_type_column,
        event_name_format=config.event_name_format,
        group_rules=list(config.event_group_rules or []),
        threshold=config.cardinality_threshold,
        literal_json_paths=observed.extracted_keys,
    )
    details: list[str] = summary["details"]
    with ctx.db.transaction() as db:
        stored = db.get(ScanConfig, config_id)
        project_row = db.get(Project, config.project_id)
        if stored is None or project_row is None:
            raise ScanFailed("The scan config no longer exists.")
        branch = main_branch(db, project_row)
        grouped = split_groups(observed.rows, config.event_type_column)
        skipped_rows = grouped.pop(None, [])
        if skipped_rows:
            details.append(
                f"{sum(r.count for r in skipped_rows)} rows without a value in "
                f"{config.event_type_column!r} were skipped"
            )
        mappings = _type_mappings(db, branch, config, observed, grouped, summary)

        analyses: list[tuple[GroupAnalysis, TypeMapping]] = []
        for key, rows in sorted(grouped.items(), key=lambda kv: str(kv[0])):
            mapping = mappings.get(key) if key is not None else None
            if key is None or mapping is None:
                continue
            analysis = analyse_group(key, rows, spec, set(mapping.fields), mapping.event_type.name)
            analyses.append((analysis, mapping))
            summary["columns_analyzed"] += len(analysis.literal_columns) + len(analysis.templated_columns)
            summary["columns_analyzed"] += len(analysis.json_columns)
            summary["events_grouped"] += analysis.grouped_names
            group_events = sum(1 for e in analysis.events.values() if e.rule is not None)
            summary["events_merged"] += max(analysis.grouped_names - group_events, 0)
            if analysis.unmapped_columns and not mapping.auto_created:
                details.append(
                    f"Event type {mapping.event_type.name!r}: unmapped columns (no field definition) "
                    f"skipped: {', '.join(analysis.unmapped_columns)}"
                )
            if analysis.templated_columns:
                details.append(
                    f"Event type {mapping.event_type.name!r}: high-cardinality columns templated: "
                    f"{', '.join(analysis.templated_columns)}"
                )

        written = write_catalog(
            db,
            branch,
            analyses,
            threshold=config.cardinality_threshold,
            seen_at=observed.window_end,
            now=now,
        )
        summary["events_created"] = written.events_created
        summary["events_skipped"] = written.events_skipped
        summary["variables_created"] = written.variables_created
        details.extend(written.details)
        stored.catalog_state = _catalog_state(stored.catalog_state, observed, analyses)
    details.insert(
        0,
        f"{summary['value_combinations']} value combinations ({summary['rows_scanned']} rows) analysed; "
        f"{summary['events_created']} events created, {summary['events_skipped']} already in the plan",
    )
    control.progress(stage="done", **{k: v for k, v in summary.items() if k != "details"})
    return summary


def _type_mappings(
    db: Session,
    branch: PlanBranch,
    config: ScanConfig,
    observed: Observation,
    grouped: dict[str | None, list[ObservedRow]],
    summary: dict[str, Any],
) -> dict[str, TypeMapping]:
    details: list[str] = summary["details"]
    if not config.event_type_column:
        assert config.event_type_id is not None
        mapping = load_types(db, branch, [config.event_type_id]).get(config.event_type_id)
        if mapping is None or mapping.event_type.branch_id != branch.id:
            raise ScanFailed("The scan config's event type no longer exists; choose another one.")
        return {SINGLE_GROUP: mapping}
    keys = [k for k in grouped if k is not None]
    too_long = [k for k in keys if len(k) > MAX_TYPE_NAME]
    for key in too_long:
        details.append(f"Event type value {key[:40]!r}... is longer than {MAX_TYPE_NAME} characters; skipped")
    keys = [k for k in keys if len(k) <= MAX_TYPE_NAME]
    mappings = types_by_name(db, branch, keys)
    missing = sorted(k for k in keys if k not in mappings)
    if missing:
        order = db.scalar(select(func.count()).where(EventType.branch_id == branch.id)) or 0
        candidates = [
            c for c in observed.scalar_columns + observed.json_columns if c != config.event_type_column
        ]
        for i, key in enumerate(missing):
            columns = populated_columns(grouped[key], candidates, observed.json_columns)
            mappings[key] = create_type(db, branch, key, columns, set(observed.json_columns), order + i)
        summary["event_types_created"] = len(missing)
        details.append(f"Event types created: {', '.join(missing)}")
    return mappings


def _catalog_state(
    previous: dict[str, Any] | None,
    observed: Observation,
    analyses: list[tuple[GroupAnalysis, TypeMapping]],
) -> dict[str, Any]:
    """Groups seen now replace their old entry; groups absent from this window keep theirs."""
    groups = dict((previous or {}).get("groups") or {})
    for analysis, mapping in analyses:
        groups[analysis.key] = {
            "event_type_id": str(mapping.event_type.id),
            "type_name": mapping.event_type.name,
            "identity_columns": analysis.identity_columns,
            "literal_columns": analysis.literal_columns,
            "templated_columns": analysis.templated_columns,
            "json_columns": analysis.json_columns,
            "unmapped_columns": analysis.unmapped_columns,
        }
    return {
        "version": STATE_VERSION,
        "columns": observed.scalar_columns,
        "json_columns": observed.json_columns,
        "groups": groups,
    }
