from __future__ import annotations

import enum
import uuid

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tripl.core.db import Base, IdMixin, TimestampMixin
from tripl.plan.base import Sensitivity


class FieldType(enum.StrEnum):
    string = "string"
    number = "number"
    boolean = "boolean"
    json = "json"
    enum = "enum"
    url = "url"


class FieldDefinition(IdMixin, TimestampMixin, Base):
    __tablename__ = "field_definitions"
    __table_args__ = (UniqueConstraint("event_type_id", "name"),)

    event_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("event_types.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    field_type: Mapped[FieldType] = mapped_column(Enum(FieldType, native_enum=False, length=16))
    is_required: Mapped[bool] = mapped_column(default=False)
    enum_options: Mapped[list[str] | None] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text, default="")
    order: Mapped[int] = mapped_column(default=0)
    sensitivity: Mapped[Sensitivity] = mapped_column(
        Enum(Sensitivity, native_enum=False, length=16), default=Sensitivity.none
    )
    contract_required_max_null_rate: Mapped[float | None]
    contract_regex: Mapped[str | None] = mapped_column(Text)
    contract_min_value: Mapped[float | None]
    contract_max_value: Mapped[float | None]
    contract_max_bad_rate: Mapped[float] = mapped_column(default=0.0)
