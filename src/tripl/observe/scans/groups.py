"""Apply event groups: fold existing plan events into the group events their config's rules name.

Rules are evaluated exactly as the catalog does (naming.GroupRule) over each event of the
config's type (or every type of the project when the config splits by a column): the
pseudo-fields `event_name`/`__event_name` read the event's identity (`source_name`), any other
field reads the event's value for the field definition of that name. A matching event is merged
into the event named after the rule in the same type (created when missing, with the source's
values and the matched fields rewritten to `/<pattern>/`):
- metric, breakdown and app-version rows are re-pointed to the target; rows whose unique key the
  target already has are added to the target's count and dropped (all in SQL);
- tags, meta values, photos and variable contexts move; on a clash the target's entry wins;
- `last_seen_at` becomes the later of the two, the more advanced status is kept;
- the source event is deleted.
Everything happens in one transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, delete, exists, insert, select, update
from sqlalchemy.orm import Session

from tripl.core.context import TriplContext
from tripl.core.db import utcnow
from tripl.observe.metrics.models import POINTS_TABLE, SERIES_TABLE, MetricScopeType
from tripl.observe.scans.catalog_writer import SCAN_EVENT_DESCRIPTION, chunks
from tripl.observe.scans.models import ScanConfig
from tripl.observe.scans.naming import EVENT_NAME_FIELDS, GroupRule, IdentityError, finish_name
from tripl.observe.scans.runtime import JobControl, ScanFailed
from tripl.plan.branches.models import PlanBranch
from tripl.plan.branches.service import main_branch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import (
    Event,
    EventChange,
    EventFieldValue,
    EventMetaValue,
    EventStatus,
    EventTag,
)
from tripl.plan.events.ordering import next_order
from tripl.plan.fields.models import FieldDefinition
from tripl.plan.photos.models import EventPhoto
from tripl.plan.projects.models import Project
from tripl.plan.variables.models import VariableValueContext

STATUS_RANK = {status: i for i, status in enumerate(EventStatus)}

# What matches a source event's series to a target event's, besides both being event series.
_SERIES_MATCH = ("scan_config_id", "kind", "column", "value", "is_other")


def apply_event_groups(ctx: TriplContext, config_id: uuid.UUID, control: JobControl) -> dict[str, Any]:
    summary: dict[str, Any] = {"events_merged": 0, "groups_created": 0, "details": []}
    with ctx.db.transaction() as db:
        config = db.get(ScanConfig, config_id)
        if config is None:
            raise ScanFailed("The scan config no longer exists.")
        if not config.event_group_rules:
            raise ScanFailed("This scan config has no event group rules")
        try:
            rules = [GroupRule.parse(r) for r in config.event_group_rules]
        except IdentityError as exc:
            raise ScanFailed(str(exc)) from None
        project = db.get(Project, config.project_id)
        if project is None:
            raise ScanFailed("The scan config's project no longer exists.")
        branch = main_branch(db, project)
        type_query = select(EventType.id).where(EventType.branch_id == branch.id)
        if config.event_type_id is not None and not config.event_type_column:
            type_query = type_query.where(EventType.id == config.event_type_id)
        type_ids = list(db.scalars(type_query))
        merged, created = _apply(db, branch, type_ids, rules)
        summary["events_merged"] = merged
        summary["groups_created"] = created
        summary["details"].append(f"{merged} events merged into their groups; {created} group events created")
    control.progress(events_merged=summary["events_merged"], groups_created=summary["groups_created"])
    return summary


def _apply(
    db: Session, branch: PlanBranch, type_ids: list[uuid.UUID], rules: list[GroupRule]
) -> tuple[int, int]:
    if not type_ids:
        return 0, 0
    events = list(
        db.scalars(
            select(Event)
            .where(Event.branch_id == branch.id, Event.event_type_id.in_(type_ids))
            .order_by(Event.order, Event.created_at, Event.id)
        )
    )
    fields: dict[uuid.UUID, dict[str, uuid.UUID]] = defaultdict(dict)
    for fd in db.scalars(select(FieldDefinition).where(FieldDefinition.event_type_id.in_(type_ids))):
        fields[fd.event_type_id][fd.name] = fd.id
    values: dict[uuid.UUID, dict[uuid.UUID, str]] = defaultdict(dict)
    for part in chunks([e.id for e in events]):
        for fv in db.scalars(select(EventFieldValue).where(EventFieldValue.event_id.in_(part))):
            values[fv.event_id][fv.field_definition_id] = fv.value
    by_key = {(e.event_type_id, e.source_name): e for e in events}
    rule_names = {finish_name(r.name) for r in rules}

    merged = created = 0
    order = next_order(db, branch)
    for event in events:
        if event.source_name in rule_names:
            continue
        type_fields = fields[event.event_type_id]
        texts = {name: values[event.id].get(fid, "") for name, fid in type_fields.items()}
        for pseudo in EVENT_NAME_FIELDS:
            texts[pseudo] = event.source_name
        for rule in rules:
            matched = rule.match(texts)
            if matched is None:
                continue
            target_name = finish_name(rule.name)
            assert target_name is not None
            target = by_key.get((event.event_type_id, target_name))
            if target is None:
                target = _create_group_event(
                    db, event, target_name, order, values[event.id], type_fields, matched
                )
                order += 1
                by_key[(event.event_type_id, target_name)] = target
                created += 1
            _merge(db, event, target)
            merged += 1
            break
    return merged, created


def _create_group_event(
    db: Session,
    source: Event,
    name: str,
    order: int,
    source_values: dict[uuid.UUID, str],
    type_fields: dict[str, uuid.UUID],
    matched: dict[str, str],
) -> Event:
    now = utcnow()
    target = Event(
        id=uuid.uuid4(),
        project_id=source.project_id,
        branch_id=source.branch_id,
        event_type_id=source.event_type_id,
        name=name,
        source_name=name,
        description=SCAN_EVENT_DESCRIPTION,
        order=order,
        status=EventStatus.in_review,
        metric_breakdown_columns=list(source.metric_breakdown_columns or []),
        created_at=now,
        updated_at=now,
    )
    db.add(target)
    db.flush()
    rows = dict(source_values)
    for field_name, rewritten in matched.items():
        if field_name in type_fields:
            rows[type_fields[field_name]] = rewritten
    if rows:
        db.execute(
            insert(EventFieldValue),
            [
                {
                    "id": uuid.uuid4(),
                    "event_id": target.id,
                    "field_definition_id": fid,
                    "value": v,
                    "authored": False,
                }
                for fid, v in rows.items()
            ],
        )
    db.execute(
        insert(EventChange),
        [
            {
                "id": uuid.uuid4(),
                "event_id": target.id,
                "field": "created",
                "new_value": name,
                "created_at": now,
            }
        ],
    )
    return target


def _merge(db: Session, source: Event, target: Event) -> None:
    _merge_series(db, source, target)
    _move_missing(db, EventTag.__table__, ("name",), source.id, target.id)
    _move_missing(db, EventMetaValue.__table__, ("meta_field_definition_id",), source.id, target.id)
    _move_missing(
        db, VariableValueContext.__table__, ("variable_id", "field_definition_id"), source.id, target.id
    )
    db.execute(
        update(EventPhoto)
        .where(EventPhoto.event_id == source.id)
        .values(event_id=target.id)
        .execution_options(synchronize_session=False)
    )
    if source.last_seen_at and (target.last_seen_at is None or source.last_seen_at > target.last_seen_at):
        target.last_seen_at = source.last_seen_at
    if STATUS_RANK[source.status] > STATUS_RANK[target.status]:
        target.status = source.status
    db.delete(source)
    db.flush()


def _merge_series(db: Session, source: Event, target: Event) -> None:
    """A source series the target also has adds its counts into the target's points (its other
    buckets move over) and goes; the rest are re-pointed to the target."""
    series, points = SERIES_TABLE, POINTS_TABLE
    src, tgt = series.alias("src"), series.alias("tgt")
    pairs = db.execute(
        select(src.c.id, tgt.c.id)
        .join(tgt, and_(*(tgt.c[k] == src.c[k] for k in _SERIES_MATCH)))
        .where(
            src.c.scope_type == MetricScopeType.event,
            src.c.event_id == source.id,
            tgt.c.scope_type == MetricScopeType.event,
            tgt.c.event_id == target.id,
        )
        .with_for_update(key_share=True)  # points move to these series: kept until commit
    ).all()
    other = points.alias("other")
    for source_series, target_series in pairs:
        same_bucket = and_(other.c.series_id == source_series, other.c.bucket == points.c.bucket)
        db.execute(
            update(points)
            .where(points.c.series_id == target_series, exists().where(same_bucket))
            .values(count=points.c["count"] + select(other.c["count"]).where(same_bucket).scalar_subquery())
        )
        taken = and_(other.c.series_id == target_series, other.c.bucket == points.c.bucket)
        db.execute(
            update(points)
            .where(points.c.series_id == source_series, ~exists().where(taken))
            .values(series_id=target_series)
        )
        db.execute(delete(series).where(series.c.id == source_series))  # its points go with it
    db.execute(
        update(series)
        .where(series.c.scope_type == MetricScopeType.event, series.c.event_id == source.id)
        .values(event_id=target.id, scope_ref=str(target.id), event_type_id=target.event_type_id)
    )


def _move_missing(
    db: Session, table: Any, keys: tuple[str, ...], source_id: uuid.UUID, target_id: uuid.UUID
) -> None:
    """Re-point the source's rows the target lacks (by `keys`); the rest go with the source."""
    tgt = table.alias("tgt")
    clash = and_(tgt.c.event_id == target_id, *(tgt.c[k] == table.c[k] for k in keys))
    db.execute(
        update(table).where(table.c.event_id == source_id, ~exists().where(clash)).values(event_id=target_id)
    )
