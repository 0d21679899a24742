from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tripl.core.db import Base, IdMixin, TimestampMixin
from tripl.plan.base import PlanScoped


class Relation(IdMixin, TimestampMixin, PlanScoped, Base):
    __tablename__ = "relations"

    source_event_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_types.id", ondelete="CASCADE"))
    source_field_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("field_definitions.id", ondelete="CASCADE"))
    target_event_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_types.id", ondelete="CASCADE"))
    target_field_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("field_definitions.id", ondelete="CASCADE"))
    relation_type: Mapped[str] = mapped_column(String(100), default="belongs_to")
    description: Mapped[str] = mapped_column(Text, default="")
