"""Writing events: create (one or many), update, bulk update, delete (one or many).

Every write checks everything it references first (see validation.py), then writes, records history
and one audit row, all in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from tripl.plan.branches.models import PlanBranch
from tripl.plan.events.history import ChangeLog, tags_text
from tripl.plan.events.models import Event, EventFieldValue, EventMetaValue, EventTag
from tripl.plan.events.ordering import next_order
from tripl.plan.events.queries import get_events
from tripl.plan.events.schemas import EventBulkUpdate, EventCreate, EventUpdate
from tripl.plan.events.validation import Catalog, ensure_names_free, load_catalog
from tripl.plan.fields.models import FieldDefinition
from tripl.plan.meta_fields.models import MetaFieldDefinition
from tripl.plan.photos.cleanup import release_event_photos
from tripl.plan.photos.storage import PhotoStore
from tripl.plan.projects.models import Project
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User


def create_events(
    db: Session,
    actor: User,
    project: Project,
    branch: PlanBranch,
    bodies: Sequence[EventCreate],
    *,
    bulk: bool,
) -> list[Event]:
    """New events at the end of the branch's order, in the given sequence; all or nothing."""
    catalog = load_catalog(db, branch, (b.event_type_id for b in bodies), (b.owner_id for b in bodies))
    prepared = []
    for i, body in enumerate(bodies):
        loc: tuple[int, ...] = (i,) if bulk else ()
        catalog.event_type(body.event_type_id)
        values = catalog.field_values(body.event_type_id, body.field_values, loc)
        metas = catalog.meta_values(body.meta_values, loc)
        catalog.owner(body.owner_id, loc)
        prepared.append((body, values, metas))
    ensure_names_free(db, branch, [(b.event_type_id, b.name) for b in bodies])

    first = next_order(db, branch)
    log = ChangeLog(db, actor)
    events: list[Event] = []
    value_rows: list[dict[str, Any]] = []
    meta_rows: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    for offset, (body, values, metas) in enumerate(prepared):
        event = Event(
            id=uuid.uuid4(),
            project_id=project.id,
            branch_id=branch.id,
            event_type_id=body.event_type_id,
            name=body.name,
            source_name=body.name,
            description=body.description,
            order=first + offset,
            status=body.status,
            sunset_at=body.sunset_at,
            owner_id=body.owner_id,
            reviewed=body.reviewed,
            metric_breakdown_columns=body.metric_breakdown_columns,
            created_at=log.at,
            updated_at=log.at,
        )
        events.append(event)
        value_rows += [_value_row(event.id, fid, v) for fid, v in values.items()]
        meta_rows += [_meta_row(event.id, mid, v) for mid, v in metas.items()]
        tag_rows += [_tag_row(event.id, t) for t in body.tags]
        log.created(event)
    db.add_all(events)
    db.flush()
    _insert(db, EventFieldValue, value_rows)
    _insert(db, EventMetaValue, meta_rows)
    _insert(db, EventTag, tag_rows)
    log.write()

    if bulk and events:
        audit.record(
            db,
            actor,
            "event.bulk_create",
            target_type="event",
            target_name=f"{len(events)} events",
            project_id=project.id,
            project_slug=project.slug,
            payload={"branch_id": branch.id, "event_ids": [e.id for e in events]},
        )
    elif events:
        event = events[0]
        audit.record(
            db,
            actor,
            "event.create",
            target_type="event",
            target_id=event.id,
            target_name=event.name,
            project_id=project.id,
            project_slug=project.slug,
            payload={"branch_id": branch.id, "event_type_id": event.event_type_id, "name": event.name},
        )
    return events


def update_event(
    db: Session, actor: User, project: Project, branch: PlanBranch, event: Event, body: EventUpdate
) -> Event:
    """Apply the keys present in the body; lists (tags, field and meta values) replace the old ones."""
    given = body.model_fields_set
    catalog = load_catalog(db, branch, [event.event_type_id], [body.owner_id] if "owner_id" in given else [])
    # Check everything before the first write.
    if "name" in given and body.name != event.name:
        ensure_names_free(db, branch, [(event.event_type_id, body.name or "")], renaming=event.id)
    if "owner_id" in given:
        catalog.owner(body.owner_id)
    values = (
        catalog.field_values(event.event_type_id, body.field_values)
        if body.field_values is not None
        else None
    )
    metas = catalog.meta_values(body.meta_values) if body.meta_values is not None else None

    log = ChangeLog(db, actor)
    changed: list[str] = []
    scalar_changes: dict[str, Any] = {}
    for key in (
        "name",
        "description",
        "status",
        "sunset_at",
        "owner_id",
        "reviewed",
        "metric_breakdown_columns",
    ):
        if key not in given:
            continue
        new = getattr(body, key)
        if key == "description" and new is None:
            new = ""
        if getattr(event, key) == new:
            continue
        if key in ("name", "description", "status", "sunset_at"):
            log.changed(event.id, key, getattr(event, key), new)
        setattr(event, key, new)
        scalar_changes[key] = new
        changed.append(key)
    if body.tags is not None and _replace_tags(db, event, body.tags, log):
        changed.append("tags")
    if values is not None:
        fields = catalog.fields.get(event.event_type_id, {})
        changed += _replace_values(db, event, values, fields, log)
    if metas is not None:
        changed += _replace_metas(db, event, metas, catalog, log)
    if changed:
        event.updated_at = log.at
    db.flush()
    log.write()
    audit.record(
        db,
        actor,
        "event.update",
        target_type="event",
        target_id=event.id,
        target_name=event.name,
        project_id=project.id,
        project_slug=project.slug,
        payload={"changed": changed, **scalar_changes},
    )
    return event


def bulk_update_events(
    db: Session, actor: User, project: Project, branch: PlanBranch, body: EventBulkUpdate
) -> list[Event]:
    """Set status/sunset_at/owner_id/reviewed (those given non-null) on every listed event."""
    events = get_events(db, branch, body.event_ids)
    catalog = load_catalog(db, branch, [], [body.owner_id])
    catalog.owner(body.owner_id)
    updates = {
        k: getattr(body, k)
        for k in ("status", "sunset_at", "owner_id", "reviewed")
        if getattr(body, k) is not None
    }
    log = ChangeLog(db, actor)
    for event in events:
        touched = False
        for key, new in updates.items():
            if getattr(event, key) == new:
                continue
            if key in ("status", "sunset_at"):
                log.changed(event.id, key, getattr(event, key), new)
            setattr(event, key, new)
            touched = True
        if touched:
            event.updated_at = log.at
    db.flush()
    log.write()
    audit.record(
        db,
        actor,
        "event.bulk_update",
        target_type="event",
        target_name=f"{len(events)} events",
        project_id=project.id,
        project_slug=project.slug,
        payload={"event_ids": body.event_ids, **updates},
    )
    return events


def delete_event(db: Session, actor: User, project: Project, event: Event, photo_store: PhotoStore) -> None:
    release_event_photos(db, photo_store, [event.id])
    audit.record(
        db,
        actor,
        "event.delete",
        target_type="event",
        target_id=event.id,
        target_name=event.name,
        project_id=project.id,
        project_slug=project.slug,
        payload={"event_type_id": event.event_type_id},
    )
    # Values, tags, history, variable contexts and photo rows go with it (ON DELETE CASCADE); the
    # photo files are deleted once this transaction commits.
    db.execute(delete(Event).where(Event.id == event.id))


def bulk_delete_events(
    db: Session,
    actor: User,
    project: Project,
    branch: PlanBranch,
    event_ids: Sequence[uuid.UUID],
    photo_store: PhotoStore,
) -> None:
    events = get_events(db, branch, event_ids)
    release_event_photos(db, photo_store, [e.id for e in events])
    audit.record(
        db,
        actor,
        "event.bulk_delete",
        target_type="event",
        target_name=f"{len(events)} events",
        project_id=project.id,
        project_slug=project.slug,
        payload={"event_ids": list(event_ids), "names": [e.name for e in events]},
    )
    db.execute(delete(Event).where(Event.id.in_([e.id for e in events])))


# --- child rows ------------------------------------------------------------------------------


def _value_row(event_id: uuid.UUID, field_id: uuid.UUID, value: str) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "event_id": event_id,
        "field_definition_id": field_id,
        "value": value,
        "authored": True,
    }


def _meta_row(event_id: uuid.UUID, meta_id: uuid.UUID, value: str) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "event_id": event_id, "meta_field_definition_id": meta_id, "value": value}


def _tag_row(event_id: uuid.UUID, name: str) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "event_id": event_id, "name": name}


def _insert(db: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    if rows:
        db.execute(insert(model), rows)


def _replace_tags(db: Session, event: Event, tags: list[str], log: ChangeLog) -> bool:
    current = {
        name: tag_id
        for tag_id, name in db.execute(
            select(EventTag.id, EventTag.name).where(EventTag.event_id == event.id)
        )
    }
    wanted = set(tags)
    gone = [tag_id for name, tag_id in current.items() if name not in wanted]
    if gone:
        db.execute(delete(EventTag).where(EventTag.id.in_(gone)))
    _insert(db, EventTag, [_tag_row(event.id, t) for t in tags if t not in current])
    return log.changed(event.id, "tags", tags_text(current), tags_text(wanted))


def _replace_values(
    db: Session,
    event: Event,
    values: dict[uuid.UUID, str],
    fields: dict[uuid.UUID, FieldDefinition],
    log: ChangeLog,
) -> list[str]:
    """Field values become exactly `values`; rows of unchanged values (and their authorship) stay."""
    current = {
        row.field_definition_id: row
        for row in db.scalars(select(EventFieldValue).where(EventFieldValue.event_id == event.id))
    }
    changed = []
    for field_id in sorted(set(current) | set(values), key=str):
        row, new = current.get(field_id), values.get(field_id)
        old = row.value if row is not None else None
        if old == new:
            continue
        field = fields.get(field_id)
        key = f"field:{field.name if field else field_id}"
        log.changed(event.id, key, old, new)
        changed.append(key)
        if row is None:
            _insert(db, EventFieldValue, [_value_row(event.id, field_id, new or "")])
        elif new is None:
            db.delete(row)
        else:
            row.value, row.authored = new, True
    return changed


def _replace_metas(
    db: Session, event: Event, metas: dict[uuid.UUID, str], catalog: Catalog, log: ChangeLog
) -> list[str]:
    current = {
        row.meta_field_definition_id: row
        for row in db.scalars(select(EventMetaValue).where(EventMetaValue.event_id == event.id))
    }
    changed = []
    for meta_id in sorted(set(current) | set(metas), key=str):
        row, new = current.get(meta_id), metas.get(meta_id)
        old = row.value if row is not None else None
        if old == new:
            continue
        meta: MetaFieldDefinition | None = catalog.meta_fields.get(meta_id)
        key = f"meta:{meta.name if meta else meta_id}"
        log.changed(event.id, key, old, new)
        changed.append(key)
        if row is None:
            _insert(db, EventMetaValue, [_meta_row(event.id, meta_id, new or "")])
        elif new is None:
            db.delete(row)
        else:
            row.value = new
    return changed
