from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tripl.core.db import Base, IdMixin, TimestampMixin, utcnow
from tripl.plan.base import PlanScoped


class EventStatus(enum.StrEnum):
    draft = "draft"
    in_review = "in_review"
    ready_for_dev = "ready_for_dev"
    implemented = "implemented"
    live = "live"
    deprecated = "deprecated"
    archived = "archived"


class Event(IdMixin, TimestampMixin, PlanScoped, Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_branch_order", "branch_id", "order", "created_at"),
        Index("ix_events_branch_source_name", "branch_id", "source_name"),
    )

    event_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("event_types.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(500))
    # Identity used by scans and metric matching; the display name may be renamed freely.
    source_name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    order: Mapped[int] = mapped_column(default=0)
    status: Mapped[EventStatus] = mapped_column(
        Enum(EventStatus, native_enum=False, length=16), default=EventStatus.draft, index=True
    )
    sunset_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed: Mapped[bool] = mapped_column(default=False)
    metric_breakdown_columns: Mapped[list[str]] = mapped_column(JSON, default=list)


class EventFieldValue(IdMixin, Base):
    __tablename__ = "event_field_values"
    __table_args__ = (UniqueConstraint("event_id", "field_definition_id"),)

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    field_definition_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("field_definitions.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(Text, default="")
    # Values written through the API are authored: scans may fill gaps but never overwrite them.
    authored: Mapped[bool] = mapped_column(default=True)


class EventMetaValue(IdMixin, Base):
    __tablename__ = "event_meta_values"
    __table_args__ = (UniqueConstraint("event_id", "meta_field_definition_id"),)

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    meta_field_definition_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meta_field_definitions.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(Text, default="")


class EventTag(IdMixin, Base):
    __tablename__ = "event_tags"
    __table_args__ = (UniqueConstraint("event_id", "name"),)

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), index=True)


class EventChange(IdMixin, Base):
    """History: one row per changed attribute, with before/after and who changed it."""

    __tablename__ = "event_changes"

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_email: Mapped[str | None] = mapped_column(String(320))
    field: Mapped[str] = mapped_column(String(200))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
