from __future__ import annotations

import enum

from sqlalchemy import JSON, Enum, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tripl.core.db import Base, IdMixin, TimestampMixin
from tripl.plan.base import PlanScoped, Sensitivity


class MetaFieldType(enum.StrEnum):
    string = "string"
    url = "url"
    boolean = "boolean"
    enum = "enum"
    date = "date"


class MetaFieldDefinition(IdMixin, TimestampMixin, PlanScoped, Base):
    __tablename__ = "meta_field_definitions"
    __table_args__ = (UniqueConstraint("branch_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    field_type: Mapped[MetaFieldType] = mapped_column(Enum(MetaFieldType, native_enum=False, length=16))
    is_required: Mapped[bool] = mapped_column(default=False)
    enum_options: Mapped[list[str] | None] = mapped_column(JSON)
    default_value: Mapped[str | None] = mapped_column(Text)
    link_template: Mapped[str | None] = mapped_column(String(2000))
    order: Mapped[int] = mapped_column(default=0)
    sensitivity: Mapped[Sensitivity] = mapped_column(
        Enum(Sensitivity, native_enum=False, length=16), default=Sensitivity.none
    )
