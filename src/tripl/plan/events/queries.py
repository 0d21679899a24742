"""Reading events: lookups, list filters, and response assembly without N+1 queries.

A page of events is answered with a fixed number of statements whatever its size: the page, its
count, then one `IN` query per kind of child (tags, field values, variable value contexts, meta
values, event types).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Uuid, any_, bindparam, exists, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from tripl.core.db import utcnow, uuid_text
from tripl.core.errors import NotFound
from tripl.core.read_cache import SizedLru
from tripl.core.reuse import etag_matches
from tripl.plan.branches.models import PlanBranch
from tripl.plan.event_types.models import EventType
from tripl.plan.events.models import Event, EventFieldValue, EventMetaValue, EventStatus, EventTag
from tripl.plan.events.schemas import EventResponse
from tripl.plan.fields.models import FieldDefinition
from tripl.plan.meta_fields.models import MetaFieldDefinition
from tripl.plan.variables.models import Variable, VariableValueContext

LIST_ORDER = (Event.order, Event.created_at.desc(), Event.id)


def sort_key(event: Event) -> tuple[int, float, uuid.UUID]:
    """The list order (order, created_at desc, id) for events already in memory."""
    return (event.order, -event.created_at.timestamp(), event.id)


def get_event(db: Session, branch: PlanBranch, event_id: uuid.UUID) -> Event:
    event = db.scalar(select(Event).where(Event.id == event_id, Event.branch_id == branch.id))
    if event is None:
        raise NotFound("Event not found")
    return event


def find_events(db: Session, branch: PlanBranch, event_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Event]:
    query = select(Event).where(Event.branch_id == branch.id, Event.id.in_(set(event_ids)))
    return {e.id: e for e in db.scalars(query)}


def get_events(db: Session, branch: PlanBranch, event_ids: Sequence[uuid.UUID]) -> list[Event]:
    """Exactly these events of the branch, in the given sequence; 404 naming the missing ones."""
    found = find_events(db, branch, event_ids)
    missing = [i for i in event_ids if i not in found]
    if missing:
        raise NotFound(f"Events not found: {id_list(missing)}")
    return [found[i] for i in event_ids]


def id_list(ids: Sequence[uuid.UUID], shown: int = 10) -> str:
    text = ", ".join(str(i) for i in ids[:shown])
    return f"{text} and {len(ids) - shown} more" if len(ids) > shown else text


@dataclass(frozen=True)
class EventFilter:
    event_type_id: uuid.UUID | None = None
    search: str | None = None
    statuses: Sequence[EventStatus] | None = None
    tag: str | None = None
    silent_since_days: int | None = None
    field_value: str | None = None
    meta_value: str | None = None
    as_of: datetime | None = None  # the instant silent_since_days counts back from (now when None)

    def scans_text(self) -> bool:
        return bool((self.search and self.search.strip()) or self.field_value or self.meta_value)

    def conditions(self, branch: PlanBranch) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [Event.branch_id == branch.id]
        if self.event_type_id is not None:
            conds.append(Event.event_type_id == self.event_type_id)
        if self.search and self.search.strip():
            text = self.search.strip()
            conds.append(
                or_(
                    Event.name.icontains(text, autoescape=True),
                    Event.description.icontains(text, autoescape=True),
                    Event.source_name.icontains(text, autoescape=True),
                )
            )
        if self.statuses:
            conds.append(Event.status.in_(list(self.statuses)))
        if self.tag and self.tag.strip():
            conds.append(
                exists().where(EventTag.event_id == Event.id, EventTag.name == self.tag.strip().lower())
            )
        if self.silent_since_days is not None:
            cutoff = (self.as_of or utcnow()) - timedelta(days=self.silent_since_days)
            conds.append(or_(Event.last_seen_at.is_(None), Event.last_seen_at <= cutoff))
        if self.field_value:
            conds.append(
                exists().where(
                    EventFieldValue.event_id == Event.id,
                    EventFieldValue.value.icontains(self.field_value, autoescape=True),
                )
            )
        if self.meta_value:
            conds.append(
                exists().where(
                    EventMetaValue.event_id == Event.id,
                    EventMetaValue.value.icontains(self.meta_value, autoescape=True),
                )
            )
        return conds


def list_events(
    db: Session, branch: PlanBranch, f: EventFilter, *, offset: int, limit: int
) -> tuple[list[Event], int]:
    conds = f.conditions(branch)
    page_query = select(Event).where(*conds).order_by(*LIST_ORDER).offset(offset).limit(limit)
    total: int | None = None
    if f.scans_text():
        # A substring filter reads every candidate row anyway: count in the same pass rather
        # than running that scan twice. Unfiltered pages stay on the index (page, then count).
        rows = db.execute(page_query.add_columns(func.count().over())).all()
        page = [row[0] for row in rows]
        total = rows[0][1] if rows else None
    else:
        page = list(db.scalars(page_query))
    if total is None:
        if len(page) < limit and (page or offset == 0):
            total = offset + len(page)  # this page holds the end of the result; no need to count
        else:
            total = db.scalar(select(func.count()).select_from(Event).where(*conds)) or 0
    return page, total


def list_tags(db: Session, branch: PlanBranch) -> list[str]:
    return list(
        db.scalars(
            select(EventTag.name)
            .join(Event, Event.id == EventTag.event_id)
            .where(Event.branch_id == branch.id)
            .distinct()
            .order_by(EventTag.name)
        )
    )


def drift_counts(db: Session, events: Sequence[Event]) -> dict[uuid.UUID, int]:
    """Active schema drifts per event (by its type, last 30 days).

    Hook for the drift area: the drift tables do not exist yet, so every event counts 0. When they
    land, this becomes one grouped query over the events' type ids.
    """
    return {}


Child = dict[str, Any]


@dataclass
class _Children:
    """Child rows of a page of events as response-shaped dicts, grouped by event id."""

    tags: dict[str, list[Child]]
    values: dict[str, list[Child]]
    metas: dict[str, list[Child]]
    drifts: dict[uuid.UUID, int]


def _member_of(ids: list[uuid.UUID], dialect: str) -> Callable[[Any], ColumnElement[bool]]:
    """`column IN ids`; on PostgreSQL as `= ANY(one uuid[] parameter)`: a page's hundreds of ids
    would otherwise be as many bind parameters to render, send and plan for every child query."""
    if dialect == "postgresql":
        ids_array = bindparam("page_ids", ids, type_=ARRAY(Uuid()))
        return lambda column: column == any_(ids_array)
    return lambda column: column.in_(ids)


def _children(db: Session, events: Sequence[Event]) -> _Children:
    """Child rows keyed by event id text; ids come as text from the database (see `uuid_text`)."""
    ids = [e.id for e in events]
    tags: dict[str, list[Child]] = defaultdict(list)
    values: dict[str, list[Child]] = defaultdict(list)
    metas: dict[str, list[Child]] = defaultdict(list)
    contexts: dict[tuple[str, str], list[Child]] = defaultdict(list)
    if not ids:
        return _Children(tags, values, metas, {})
    db.flush()  # the connection below does not autoflush pending ORM changes
    # Plain column rows through the connection (no ORM bookkeeping), fetched at once with all().
    conn = db.connection()
    among = _member_of(ids, conn.dialect.name)
    for tag_id, event_id, name in conn.execute(
        select(uuid_text(EventTag.id), uuid_text(EventTag.event_id), EventTag.name)
        .where(among(EventTag.event_id))
        .order_by(EventTag.name)
    ).all():
        tags[event_id].append({"id": tag_id, "name": name})
    for (
        ctx_id,
        event_id,
        field_id,
        variable_id,
        variable_name,
        column,
        kind,
        count,
        seen,
        updated,
    ) in conn.execute(
        select(
            uuid_text(VariableValueContext.id),
            uuid_text(VariableValueContext.event_id),
            uuid_text(VariableValueContext.field_definition_id),
            uuid_text(VariableValueContext.variable_id),
            Variable.name,
            VariableValueContext.source_column,
            VariableValueContext.value_kind,
            VariableValueContext.observed_count,
            VariableValueContext.values,
            VariableValueContext.updated_at,
        )
        .join(Variable, Variable.id == VariableValueContext.variable_id)
        .where(among(VariableValueContext.event_id))
        .order_by(Variable.name, VariableValueContext.value_kind)
    ).all():
        contexts[(event_id, field_id)].append(
            {
                "id": ctx_id,
                "variable_id": variable_id,
                "variable_name": variable_name,
                "source_column": column,
                "value_kind": kind,
                "observed_count": count,
                "values": seen or [],
                "updated_at": updated,
            }
        )
    no_contexts: list[Child] = []
    for value_id, event_id, field_id, value, authored in conn.execute(
        select(
            uuid_text(EventFieldValue.id),
            uuid_text(EventFieldValue.event_id),
            uuid_text(EventFieldValue.field_definition_id),
            EventFieldValue.value,
            EventFieldValue.authored,
        )
        .join(FieldDefinition, FieldDefinition.id == EventFieldValue.field_definition_id)
        .where(among(EventFieldValue.event_id))
        .order_by(FieldDefinition.order, FieldDefinition.name)
    ).all():
        values[event_id].append(
            {
                "id": value_id,
                "field_definition_id": field_id,
                "value": value,
                "is_authored": authored,
                "variable_values": contexts.get((event_id, field_id), no_contexts),
            }
        )
    for value_id, event_id, meta_id, value in conn.execute(
        select(
            uuid_text(EventMetaValue.id),
            uuid_text(EventMetaValue.event_id),
            uuid_text(EventMetaValue.meta_field_definition_id),
            EventMetaValue.value,
        )
        .join(MetaFieldDefinition, MetaFieldDefinition.id == EventMetaValue.meta_field_definition_id)
        .where(among(EventMetaValue.event_id))
        .order_by(MetaFieldDefinition.order, MetaFieldDefinition.name)
    ).all():
        metas[event_id].append({"id": value_id, "meta_field_definition_id": meta_id, "value": value})
    return _Children(tags, values, metas, drift_counts(db, events))


def _item(event: Event, children: _Children) -> dict[str, Any]:
    key = str(event.id)
    return {
        "id": event.id,
        "project_id": event.project_id,
        "event_type_id": event.event_type_id,
        "name": event.name,
        "source_name": event.source_name,
        "description": event.description,
        "order": event.order,
        "status": event.status,
        "sunset_at": event.sunset_at,
        "last_seen_at": event.last_seen_at,
        "owner_id": event.owner_id,
        "reviewed": event.reviewed,
        "metric_breakdown_columns": event.metric_breakdown_columns or [],
        "drift_count": children.drifts.get(event.id, 0),
        "tags": children.tags.get(key, []),
        "field_values": children.values.get(key, []),
        "meta_values": children.metas.get(key, []),
        "created_at": event.created_at,
        "updated_at": event.updated_at,
    }


# One validation call per page of plain dicts (in pydantic-core), instead of one per object.
_RESPONSES = TypeAdapter(list[EventResponse])


def list_page_json(db: Session, events: Sequence[Event], total: int) -> bytes:
    """The List Events body (`EventListResponse`), serialised straight from the rows.

    The rows are already in the response's types (database-checked UUIDs, enums, aware UTC
    datetimes), so validating them again only cost CPU: a fifth of a page's time. A test holds
    this output equal to the pydantic model's.
    """
    children = _children(db, events)
    page = {"items": [_item(e, children) for e in events], "total": total}
    return orjson.dumps(page, option=orjson.OPT_UTC_Z)


@dataclass(frozen=True)
class ListPage:
    etag: str | None  # None when nothing may be cached (no generation row)
    body: bytes | None  # None when the client's copy (If-None-Match) is still current


def cached_list_page(
    db: Session,
    cache: SizedLru[bytes],
    generation: int | None,
    branch: PlanBranch,
    f: EventFilter,
    *,
    offset: int,
    limit: int,
    if_none_match: str | None = None,
) -> ListPage:
    """The List Events body, from the cache while no plan write was committed since it was built.

    The caller read the generation before anything else of the request, so a cached page is never
    older than the generation it is filed under. It is also the page's ETag (with the minute that
    `silent_since_days` counts back from): a client holding the same URL's body from this
    generation is told so (304) without a body.
    """
    if generation is None:
        events, total = list_events(db, branch, f, offset=offset, limit=limit)
        return ListPage(None, list_page_json(db, events, total))
    etag = f'W/"plan-{generation}{f.as_of.strftime("-%Y%m%d%H%M") if f.as_of else ""}"'
    if if_none_match and etag_matches(etag, if_none_match):
        return ListPage(etag, None)
    key = ("events", generation, branch.id, f, offset, limit)
    body = cache.get(key)
    if body is None:
        events, total = list_events(db, branch, f, offset=offset, limit=limit)
        body = list_page_json(db, events, total)
        cache.put(key, body, len(body))
    return ListPage(etag, body)


def responses(db: Session, events: Sequence[Event]) -> list[EventResponse]:
    """Full event responses (with the event type brief), in the given sequence."""
    children = _children(db, events)
    type_ids = {e.event_type_id for e in events}
    types = (
        {
            t.id: {"id": t.id, "name": t.name, "display_name": t.display_name, "color": t.color}
            for t in db.scalars(select(EventType).where(EventType.id.in_(type_ids)))
        }
        if type_ids
        else {}
    )
    return _RESPONSES.validate_python(
        [{**_item(e, children), "event_type": types[e.event_type_id]} for e in events]
    )


def response(db: Session, event: Event) -> EventResponse:
    return responses(db, [event])[0]
