from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tripl.core.db import Base, IdMixin, TimestampMixin


class ShadowEventStatus(enum.StrEnum):
    new = "new"
    accepted = "accepted"
    dismissed = "dismissed"


class ShadowEvent(IdMixin, TimestampMixin, Base):
    """An event name seen in the warehouse that matches no plan event (written by collection).

    Status is the user's: the collector refreshes counts and times but never resurrects one.
    """

    __tablename__ = "shadow_events"
    __table_args__ = (UniqueConstraint("scan_config_id", "event_name"),)

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    scan_config_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("scan_configs.id", ondelete="CASCADE"))
    event_type_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("event_types.id", ondelete="SET NULL"))
    event_name: Mapped[str] = mapped_column(String(500))
    observed_count: Mapped[int] = mapped_column(BigInteger, default=0)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    status: Mapped[ShadowEventStatus] = mapped_column(
        Enum(ShadowEventStatus, native_enum=False, length=16), default=ShadowEventStatus.new
    )
