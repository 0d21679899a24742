"""Event history: a `created` row, then one before/after row per changed attribute."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tripl.core.db import utcnow
from tripl.plan.events.models import Event, EventChange
from tripl.workspace.users.models import User

CREATED = "created"


def as_text(value: object) -> str | None:
    """How a value is shown in history: strings as they are, absence as null."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return str(value.value)
    return str(value)


def tags_text(tags: Iterable[str]) -> str | None:
    names = sorted(tags)
    return ", ".join(names) if names else None


class ChangeLog:
    """Collects the history rows of one mutation; they share one timestamp and one author."""

    def __init__(self, db: Session, actor: User, at: datetime | None = None) -> None:
        self.db = db
        self.actor = actor
        self.at = at or utcnow()
        self.rows: list[dict[str, Any]] = []

    def created(self, event: Event) -> None:
        self._add(event.id, CREATED, None, event.name)

    def changed(self, event_id: uuid.UUID, field: str, old: object, new: object) -> bool:
        old_text, new_text = as_text(old), as_text(new)
        if old_text == new_text:
            return False
        self._add(event_id, field, old_text, new_text)
        return True

    def write(self) -> None:
        """Insert the collected rows in one statement (after their events were flushed)."""
        if self.rows:
            self.db.execute(insert(EventChange), self.rows)
            self.rows = []

    def _add(self, event_id: uuid.UUID, field: str, old: str | None, new: str | None) -> None:
        self.rows.append(
            {
                "id": uuid.uuid4(),
                "event_id": event_id,
                "user_id": self.actor.id,
                "user_email": self.actor.email,
                "field": field,
                "old_value": old,
                "new_value": new,
                "created_at": self.at,
            }
        )


def list_changes(db: Session, event: Event) -> list[EventChange]:
    """Newest first; rows written by one mutation keep a stable order (by attribute name)."""
    return list(
        db.scalars(
            select(EventChange)
            .where(EventChange.event_id == event.id)
            .order_by(EventChange.created_at.desc(), EventChange.field, EventChange.id)
        )
    )
