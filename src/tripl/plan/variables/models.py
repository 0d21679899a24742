from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tripl.core.db import Base, IdMixin, TimestampMixin, utcnow
from tripl.plan.base import PlanScoped


class VariableType(enum.StrEnum):
    string = "string"
    number = "number"
    boolean = "boolean"
    date = "date"
    datetime = "datetime"
    json = "json"
    string_array = "string_array"
    number_array = "number_array"


class ValueKind(enum.StrEnum):
    low = "low"
    high = "high"


class Variable(IdMixin, TimestampMixin, PlanScoped, Base):
    """A named `${name}` placeholder used inside event field and meta values."""

    __tablename__ = "variables"
    __table_args__ = (UniqueConstraint("branch_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    source_name: Mapped[str | None] = mapped_column(String(500), index=True)
    variable_type: Mapped[VariableType] = mapped_column(Enum(VariableType, native_enum=False, length=16))
    description: Mapped[str] = mapped_column(Text, default="")


class VariableValueContext(IdMixin, Base):
    """Values a scan observed for one variable in one field of one event."""

    __tablename__ = "variable_value_contexts"
    __table_args__ = (UniqueConstraint("variable_id", "event_id", "field_definition_id"),)

    variable_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("variables.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    field_definition_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("field_definitions.id", ondelete="CASCADE"), index=True
    )
    source_column: Mapped[str] = mapped_column(String(500), default="")
    value_kind: Mapped[ValueKind] = mapped_column(Enum(ValueKind, native_enum=False, length=8))
    observed_count: Mapped[int] = mapped_column(default=0)
    values: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
