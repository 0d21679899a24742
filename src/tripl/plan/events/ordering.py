"""The manual order of events on a branch: append, move up/down, reorder a selection."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from tripl.core.errors import Invalid
from tripl.plan.branches.models import PlanBranch
from tripl.plan.events.models import Event
from tripl.plan.events.queries import LIST_ORDER, find_events, id_list, sort_key
from tripl.plan.projects.models import Project
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User


def next_order(db: Session, branch: PlanBranch) -> int:
    """The slot after the last event of the branch (0 for the first)."""
    last = db.scalar(select(func.max(Event.order)).where(Event.branch_id == branch.id))
    return 0 if last is None else last + 1


def _renumber(db: Session, branch: PlanBranch) -> dict[uuid.UUID, int]:
    """Give every event of the branch its own slot 0..n-1, keeping the list order.

    Slots are normally distinct; ties only come from concurrent creates or imported data, and a
    swap between equal slots would change nothing, so they are spread out first.
    """
    rows = db.execute(select(Event.id, Event.order).where(Event.branch_id == branch.id).order_by(*LIST_ORDER))
    slots: dict[uuid.UUID, int] = {}
    changed = []
    for index, (event_id, order) in enumerate(rows):
        slots[event_id] = index
        if order != index:
            changed.append({"id": event_id, "order": index})
    if changed:
        db.execute(update(Event), changed)
    return slots


def _neighbour(db: Session, branch: PlanBranch, event: Event, direction: str) -> Event | None:
    """The event right before (up) or after (down) this one in the branch's list order."""
    o, c, i = event.order, event.created_at, event.id
    if direction == "up":
        before = or_(
            Event.order < o,
            and_(Event.order == o, Event.created_at > c),
            and_(Event.order == o, Event.created_at == c, Event.id < i),
        )
        query = select(Event).where(before).order_by(Event.order.desc(), Event.created_at, Event.id.desc())
    else:
        after = or_(
            Event.order > o,
            and_(Event.order == o, Event.created_at < c),
            and_(Event.order == o, Event.created_at == c, Event.id > i),
        )
        query = select(Event).where(after).order_by(*LIST_ORDER)
    return db.scalar(query.where(Event.branch_id == branch.id).limit(1))


def move_event(
    db: Session,
    actor: User,
    project: Project,
    branch: PlanBranch,
    event: Event,
    direction: Literal["up", "down"],
    visible_event_ids: Sequence[uuid.UUID] | None,
) -> Event:
    """Swap the event's slot with its neighbour in the list the user sees; no-op at either end."""
    neighbour: Event | None
    if visible_event_ids is not None:
        if event.id not in visible_event_ids:
            raise Invalid("Event is not in visible_event_ids")
        visible = sorted(
            db.scalars(
                select(Event).where(Event.branch_id == branch.id, Event.id.in_(set(visible_event_ids)))
            ),
            key=sort_key,
        )
        at = next(n for n, e in enumerate(visible) if e.id == event.id)
        target = at - 1 if direction == "up" else at + 1
        neighbour = visible[target] if 0 <= target < len(visible) else None
    else:
        neighbour = _neighbour(db, branch, event, direction)

    if neighbour is not None:
        if neighbour.order == event.order:
            slots = _renumber(db, branch)
            event.order, neighbour.order = slots[event.id], slots[neighbour.id]
        event.order, neighbour.order = neighbour.order, event.order
        db.flush()
    audit.record(
        db,
        actor,
        "event.move",
        target_type="event",
        target_id=event.id,
        target_name=event.name,
        project_id=project.id,
        project_slug=project.slug,
        payload={"direction": direction, "swapped_with": neighbour.id if neighbour else None},
    )
    return event


def reorder_events(
    db: Session, actor: User, project: Project, branch: PlanBranch, event_ids: Sequence[uuid.UUID]
) -> list[Event]:
    """Hand the events' own slots, sorted, back out in the given sequence; other events stay put."""
    found = find_events(db, branch, event_ids)
    unknown = [i for i in event_ids if i not in found]
    if unknown:
        raise Invalid(f"Events not in this plan: {id_list(unknown)}")
    events = [found[i] for i in event_ids]
    slots = sorted(e.order for e in events)
    if len(set(slots)) < len(slots):
        renumbered = _renumber(db, branch)
        for e in events:
            e.order = renumbered[e.id]
        slots = sorted(e.order for e in events)
    for event, slot in zip(events, slots, strict=True):
        event.order = slot
    db.flush()
    audit.record(
        db,
        actor,
        "event.reorder",
        target_type="event",
        target_name=f"{len(events)} events",
        project_id=project.id,
        project_slug=project.slug,
        payload={"event_ids": list(event_ids)},
    )
    return events
