"""What an event write may reference, loaded once per request and checked before anything is written.

A request (single or bulk) loads its event types, their fields, the branch's meta fields and the named
owners with a fixed number of queries; every check then runs in memory, so a bulk request either
passes as a whole or fails before the first row is written.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tripl.core.errors import Conflict, NotFound, Unprocessable
from tripl.plan.branches.models import PlanBranch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event
from tripl.plan.events.schemas import EventFieldValueIn, EventMetaValueIn
from tripl.plan.fields.models import FieldDefinition
from tripl.plan.meta_fields.models import MetaFieldDefinition
from tripl.workspace.users.models import User

Loc = tuple[str | int, ...]


def _error(loc: Loc, msg: str) -> Unprocessable:
    return Unprocessable([{"loc": ["body", *loc], "msg": msg, "type": "value_error"}])


@dataclass
class Catalog:
    event_types: dict[uuid.UUID, EventType]
    fields: dict[uuid.UUID, dict[uuid.UUID, FieldDefinition]]  # event type id -> field id -> field
    meta_fields: dict[uuid.UUID, MetaFieldDefinition]
    known_users: set[uuid.UUID] = field(default_factory=set)

    def event_type(self, event_type_id: uuid.UUID) -> EventType:
        event_type = self.event_types.get(event_type_id)
        if event_type is None:
            raise NotFound("Event type not found")
        return event_type

    def field_values(
        self, event_type_id: uuid.UUID, values: Sequence[EventFieldValueIn], loc: Loc = ()
    ) -> dict[uuid.UUID, str]:
        """Values by field id; ids must be fields of the type and every required field needs a value."""
        fields = self.fields.get(event_type_id, {})
        result: dict[uuid.UUID, str] = {}
        for i, item in enumerate(values):
            where = (*loc, "field_values", i, "field_definition_id")
            if item.field_definition_id not in fields:
                raise _error(where, "Field does not belong to the event's type")
            if item.field_definition_id in result:
                raise _error(where, "Field given more than once")
            result[item.field_definition_id] = item.value
        missing = [f.name for f in fields.values() if f.is_required and not result.get(f.id, "").strip()]
        if missing:
            names = ", ".join(sorted(missing))
            raise _error((*loc, "field_values"), f"Required fields need a value: {names}")
        return result

    def meta_values(self, values: Sequence[EventMetaValueIn], loc: Loc = ()) -> dict[uuid.UUID, str]:
        result: dict[uuid.UUID, str] = {}
        for i, item in enumerate(values):
            where = (*loc, "meta_values", i, "meta_field_definition_id")
            if item.meta_field_definition_id not in self.meta_fields:
                raise _error(where, "Meta field does not exist in this project")
            if item.meta_field_definition_id in result:
                raise _error(where, "Meta field given more than once")
            result[item.meta_field_definition_id] = item.value
        return result

    def owner(self, owner_id: uuid.UUID | None, loc: Loc = ()) -> uuid.UUID | None:
        if owner_id is not None and owner_id not in self.known_users:
            raise _error((*loc, "owner_id"), "User not found")
        return owner_id


def load_catalog(
    db: Session,
    branch: PlanBranch,
    event_type_ids: Iterable[uuid.UUID],
    owner_ids: Iterable[uuid.UUID | None],
) -> Catalog:
    type_ids = set(event_type_ids)
    types = (
        {
            t.id: t
            for t in db.scalars(
                select(EventType).where(EventType.branch_id == branch.id, EventType.id.in_(type_ids))
            )
        }
        if type_ids
        else {}
    )
    fields: dict[uuid.UUID, dict[uuid.UUID, FieldDefinition]] = defaultdict(dict)
    if types:
        for f in db.scalars(select(FieldDefinition).where(FieldDefinition.event_type_id.in_(types))):
            fields[f.event_type_id][f.id] = f
    meta = {
        m.id: m
        for m in db.scalars(select(MetaFieldDefinition).where(MetaFieldDefinition.branch_id == branch.id))
    }
    wanted_users = {u for u in owner_ids if u is not None}
    users = set(db.scalars(select(User.id).where(User.id.in_(wanted_users)))) if wanted_users else set()
    return Catalog(types, dict(fields), meta, users)


def ensure_names_free(
    db: Session,
    branch: PlanBranch,
    names: Sequence[tuple[uuid.UUID, str]],
    *,
    renaming: uuid.UUID | None = None,
) -> None:
    """Event names are unique within their type on a branch (409).

    A new event also may not take a name that another event of the type uses as its scan identity
    (`source_name`), or scans would match two events. A rename only changes the display name, so it
    is checked against display names alone.
    """
    seen: set[tuple[uuid.UUID, str]] = set()
    for key in names:
        if key in seen:
            raise Conflict(f"Event '{key[1]}' is given twice for the same event type")
        seen.add(key)
    if not names:
        return
    type_ids = {t for t, _ in names}
    wanted = {n for _, n in names}
    clash = Event.name.in_(wanted) if renaming else or_(Event.name.in_(wanted), Event.source_name.in_(wanted))
    query = select(Event.event_type_id, Event.name, Event.source_name).where(
        Event.branch_id == branch.id, Event.event_type_id.in_(type_ids), clash
    )
    if renaming is not None:
        query = query.where(Event.id != renaming)
    for type_id, name, source_name in db.execute(query):
        for candidate in (name,) if renaming else (name, source_name):
            if (type_id, candidate) in seen:
                raise Conflict(f"Event '{candidate}' already exists in this event type")
