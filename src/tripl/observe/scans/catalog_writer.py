"""Writing a catalog analysis into the main plan: event types, variables, events, values, samples.

Everything happens in the caller's transaction with a fixed number of statements per batch
(no per-event queries). Rules:
- events are matched by (event type, `source_name`); new ones start `in_review` with the scan
  description and non-authored values, appended to the order; at most `MAX_NEW_EVENTS` per pass;
- an existing event gets missing values filled and non-authored values refreshed; authored
  values (written through the API) are never overwritten;
- variables are reused by `source_name`, then by `name`, else created;
- value contexts merge with what earlier runs stored (union of values, counts never go down),
  so a run that saw nothing for a context leaves it untouched;
- `last_seen_at` only moves forward.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tripl.observe.scans.catalog_analysis import GroupAnalysis, PlannedContext, PlannedEvent
from tripl.observe.scans.templating import Placeholder
from tripl.plan.branches.models import PlanBranch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventChange, EventFieldValue, EventStatus
from tripl.plan.events.ordering import next_order
from tripl.plan.fields.models import FieldDefinition, FieldType
from tripl.plan.variables.models import ValueKind, Variable, VariableType, VariableValueContext

MAX_NEW_EVENTS = 10_000
SCAN_EVENT_DESCRIPTION = "Auto-generated from data source scan"
SCAN_VARIABLE_DESCRIPTION = "Auto-detected variable from data source scan"
HIGH_SAMPLE_LIMIT = 50
IN_CHUNK = 500

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class TypeMapping:
    event_type: EventType
    fields: dict[str, FieldDefinition]  # column name -> field definition
    auto_created: bool = False


@dataclass
class WriteResult:
    events_created: int = 0
    events_skipped: int = 0
    events_not_created: int = 0  # over the per-pass cap
    variables_created: int = 0
    values_written: int = 0
    details: list[str] = field(default_factory=list)


def load_types(
    db: Session, branch: PlanBranch, type_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, TypeMapping]:
    ids = list(set(type_ids))
    types = {t.id: t for t in db.scalars(select(EventType).where(EventType.id.in_(ids)))} if ids else {}
    fields: dict[uuid.UUID, dict[str, FieldDefinition]] = {i: {} for i in types}
    if types:
        for fd in db.scalars(select(FieldDefinition).where(FieldDefinition.event_type_id.in_(list(types)))):
            fields[fd.event_type_id][fd.name] = fd
    return {i: TypeMapping(t, fields[i]) for i, t in types.items()}


def types_by_name(db: Session, branch: PlanBranch, names: Iterable[str]) -> dict[str, TypeMapping]:
    wanted = list(set(names))
    found: list[EventType] = []
    for part in chunks(wanted):
        found += db.scalars(
            select(EventType).where(EventType.branch_id == branch.id, EventType.name.in_(part))
        ).all()
    mapping = load_types(db, branch, [t.id for t in found])
    return {m.event_type.name: m for m in mapping.values()}


def create_type(
    db: Session, branch: PlanBranch, name: str, columns: Sequence[str], json_columns: set[str], order: int
) -> TypeMapping:
    """A type for a new group, with a string (or json) field per column the group populates."""
    event_type = EventType(
        id=uuid.uuid4(),
        project_id=branch.project_id,
        branch_id=branch.id,
        name=name,
        display_name=name,
        description="Auto-created by data source scan",
        order=order,
    )
    db.add(event_type)
    fields = {}
    for i, column in enumerate(c for c in columns if len(c) <= 100):
        fd = FieldDefinition(
            id=uuid.uuid4(),
            event_type_id=event_type.id,
            name=column,
            display_name=column,
            field_type=FieldType.json if column in json_columns else FieldType.string,
            order=i,
        )
        db.add(fd)
        fields[column] = fd
    db.flush()
    return TypeMapping(event_type, fields, auto_created=True)


def write_catalog(
    db: Session,
    branch: PlanBranch,
    groups: Sequence[tuple[GroupAnalysis, TypeMapping]],
    *,
    threshold: int,
    seen_at: datetime | None,
    now: datetime,
) -> WriteResult:
    result = WriteResult()
    planned: list[tuple[PlannedEvent, TypeMapping]] = [
        (event, mapping) for analysis, mapping in groups for event in analysis.events.values()
    ]
    variables = _resolve_variables(db, branch, planned, result)
    events = _upsert_events(db, branch, planned, result, now)
    _write_values(db, planned, events, variables, result)
    _merge_contexts(db, planned, events, variables, threshold)
    if seen_at is not None and events:
        ids = [e.id for e in events.values()]
        for part in chunks(ids):
            db.execute(
                update(Event)
                .where(Event.id.in_(part))
                .where((Event.last_seen_at.is_(None)) | (Event.last_seen_at < seen_at))
                .values(last_seen_at=seen_at, updated_at=Event.updated_at)  # seen, not edited
                .execution_options(synchronize_session=False)
            )
    return result


def _resolve_variables(
    db: Session, branch: PlanBranch, planned: list[tuple[PlannedEvent, TypeMapping]], result: WriteResult
) -> dict[tuple[str, str], Variable]:
    """(placeholder source, proposed name) -> the variable it stands for (reused or created)."""
    wanted: dict[tuple[str, str], Placeholder] = {}
    for event, _ in planned:
        for ctx in event.contexts:
            wanted.setdefault((ctx.placeholder.source_name, ctx.placeholder.name), ctx.placeholder)
    if not wanted:
        return {}
    sources = sorted({s for s, _ in wanted})
    names = sorted({n for _, n in wanted})
    existing: list[Variable] = []
    for part in chunks(sources):
        existing += db.scalars(
            select(Variable)
            .where(Variable.branch_id == branch.id, Variable.source_name.in_(part))
            .order_by(Variable.created_at, Variable.id)
        ).all()
    for part in chunks(names):
        existing += db.scalars(
            select(Variable).where(Variable.branch_id == branch.id, Variable.name.in_(part))
        ).all()
    by_source: dict[str, Variable] = {}
    by_name: dict[str, Variable] = {}
    for known in existing:
        if known.source_name:
            by_source.setdefault(known.source_name, known)
        by_name[known.name] = known

    resolved: dict[tuple[str, str], Variable] = {}
    for (source, name), ph in sorted(wanted.items()):
        var = by_source.get(source) or by_name.get(name)
        if var is None:
            var = Variable(
                id=uuid.uuid4(),
                project_id=branch.project_id,
                branch_id=branch.id,
                name=name,
                source_name=source,
                variable_type=VariableType(ph.variable_type),
                description=SCAN_VARIABLE_DESCRIPTION,
            )
            db.add(var)
            by_source[source] = var
            by_name[name] = var
            result.variables_created += 1
        resolved[(source, name)] = var
    db.flush()
    return resolved


def _upsert_events(
    db: Session,
    branch: PlanBranch,
    planned: list[tuple[PlannedEvent, TypeMapping]],
    result: WriteResult,
    now: datetime,
) -> dict[tuple[uuid.UUID, str], Event]:
    keys = {(m.event_type.id, e.source_name) for e, m in planned}
    found: dict[tuple[uuid.UUID, str], Event] = {}
    taken_names: set[tuple[uuid.UUID, str]] = set()
    type_ids = sorted({t for t, _ in keys})
    names = sorted({n for _, n in keys})
    for part in chunks(names):
        rows = db.scalars(
            select(Event).where(
                Event.branch_id == branch.id,
                Event.event_type_id.in_(type_ids),
                (Event.source_name.in_(part)) | (Event.name.in_(part)),
            )
        ).all()
        for row in rows:
            taken_names.add((row.event_type_id, row.name))
            if (row.event_type_id, row.source_name) in keys:
                found.setdefault((row.event_type_id, row.source_name), row)
    result.events_skipped = len(found)

    new_rows: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    order = next_order(db, branch)
    for event, mapping in planned:
        key = (mapping.event_type.id, event.source_name)
        if key in found:
            continue
        if len(new_rows) >= MAX_NEW_EVENTS:
            result.events_not_created += 1
            continue
        name = event.source_name
        n = 2
        while (key[0], name) in taken_names:  # a renamed event already shows this name
            suffix = f" ({n})"
            name = event.source_name[: 500 - len(suffix)] + suffix
            n += 1
        taken_names.add((key[0], name))
        new_row: dict[str, Any] = {
            "id": uuid.uuid4(),
            "project_id": branch.project_id,
            "branch_id": branch.id,
            "event_type_id": key[0],
            "name": name,
            "source_name": event.source_name,
            "description": SCAN_EVENT_DESCRIPTION,
            "order": order + len(new_rows),
            "status": EventStatus.in_review,
            "reviewed": False,
            "metric_breakdown_columns": [],
            "created_at": now,
            "updated_at": now,
        }
        new_rows.append(new_row)
        history.append(
            {
                "id": uuid.uuid4(),
                "event_id": new_row["id"],
                "user_id": None,
                "user_email": None,
                "field": "created",
                "old_value": None,
                "new_value": name,
                "created_at": now,
            }
        )
    for batch in chunks(new_rows, 2000):
        db.execute(insert(Event), list(batch))
    for batch in chunks(history, 2000):
        db.execute(insert(EventChange), list(batch))
    result.events_created = len(new_rows)
    if result.events_not_created:
        result.details.append(
            f"{result.events_not_created} new events were not created: at most {MAX_NEW_EVENTS} per run; "
            "run the scan again to continue"
        )
    if new_rows:
        ids = [r["id"] for r in new_rows]
        for part in chunks(ids):
            for created in db.scalars(select(Event).where(Event.id.in_(part))):
                found[(created.event_type_id, created.source_name)] = created
    return found


def _rename(
    value: str, contexts: list[PlannedContext], column: str, variables: dict[tuple[str, str], Variable]
) -> str:
    for ctx in contexts:
        if ctx.column != column:
            continue
        var = variables[(ctx.placeholder.source_name, ctx.placeholder.name)]
        if var.name != ctx.placeholder.name:
            value = value.replace("${" + ctx.placeholder.name + "}", "${" + var.name + "}")
    return value


def _write_values(
    db: Session,
    planned: list[tuple[PlannedEvent, TypeMapping]],
    events: dict[tuple[uuid.UUID, str], Event],
    variables: dict[tuple[str, str], Variable],
    result: WriteResult,
) -> None:
    event_ids = [e.id for e in events.values()]
    current: dict[tuple[uuid.UUID, uuid.UUID], EventFieldValue] = {}
    for part in chunks(event_ids):
        for fv in db.scalars(select(EventFieldValue).where(EventFieldValue.event_id.in_(part))):
            current[(fv.event_id, fv.field_definition_id)] = fv
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for planned_event, mapping in planned:
        event = events.get((mapping.event_type.id, planned_event.source_name))
        if event is None:
            continue
        for column, raw in planned_event.values.items():
            fd = mapping.fields.get(column)
            if fd is None:
                continue
            value = _rename(raw, planned_event.contexts, column, variables)
            existing = current.get((event.id, fd.id))
            if existing is None:
                inserts.append(
                    {
                        "id": uuid.uuid4(),
                        "event_id": event.id,
                        "field_definition_id": fd.id,
                        "value": value,
                        "authored": False,
                    }
                )
            elif not existing.authored and existing.value != value:
                updates.append({"id": existing.id, "value": value})
    for batch in chunks(inserts, 2000):
        db.execute(insert(EventFieldValue), list(batch))
    if updates:
        db.execute(update(EventFieldValue), updates)
    result.values_written = len(inserts) + len(updates)


def _merge_contexts(
    db: Session,
    planned: list[tuple[PlannedEvent, TypeMapping]],
    events: dict[tuple[uuid.UUID, str], Event],
    variables: dict[tuple[str, str], Variable],
    threshold: int,
) -> None:
    new: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], tuple[PlannedContext, set[str], int]] = {}
    for planned_event, mapping in planned:
        event = events.get((mapping.event_type.id, planned_event.source_name))
        if event is None:
            continue
        for ctx in planned_event.contexts:
            fd = mapping.fields.get(ctx.column)
            if fd is None:
                continue
            var = variables[(ctx.placeholder.source_name, ctx.placeholder.name)]
            key = (var.id, event.id, fd.id)
            prev = new.get(key)
            values = set(ctx.values) | (prev[1] if prev else set())
            new[key] = (ctx, values, max(ctx.observed_count, prev[2] if prev else 0))
    if not new:
        return
    stored: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], VariableValueContext] = {}
    event_ids = sorted({k[1] for k in new})
    for part in chunks(event_ids):
        for row in db.scalars(select(VariableValueContext).where(VariableValueContext.event_id.in_(part))):
            stored[(row.variable_id, row.event_id, row.field_definition_id)] = row
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key, (ctx, values, count) in new.items():
        old = stored.get(key)
        merged = set(values) | set(old.values or [] if old else [])
        observed = max(count, old.observed_count if old else 0, len(merged))
        high = ctx.always_high or observed > threshold
        kept = sorted(merged)[:HIGH_SAMPLE_LIMIT] if high else sorted(merged)
        kind = ValueKind.high if high else ValueKind.low
        if old is None:
            inserts.append(
                {
                    "id": uuid.uuid4(),
                    "variable_id": key[0],
                    "event_id": key[1],
                    "field_definition_id": key[2],
                    "source_column": ctx.placeholder.source_name,
                    "value_kind": kind,
                    "observed_count": observed,
                    "values": kept,
                }
            )
        elif sorted(old.values or []) != kept or old.observed_count != observed or old.value_kind != kind:
            updates.append({"id": old.id, "values": kept, "observed_count": observed, "value_kind": kind})
    for batch in chunks(inserts, 2000):
        db.execute(insert(VariableValueContext), list(batch))
    if updates:
        db.execute(update(VariableValueContext), updates)
