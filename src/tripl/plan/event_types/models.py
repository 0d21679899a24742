from __future__ import annotations

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tripl.core.db import Base, IdMixin, TimestampMixin
from tripl.plan.base import PlanScoped


class EventType(IdMixin, TimestampMixin, PlanScoped, Base):
    __tablename__ = "event_types"
    __table_args__ = (UniqueConstraint("branch_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    color: Mapped[str] = mapped_column(String(7), default="#6366f1")
    order: Mapped[int] = mapped_column(default=0)
