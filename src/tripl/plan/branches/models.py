from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tripl.core.db import Base, IdMixin, TimestampMixin


class BranchKind(enum.StrEnum):
    main = "main"
    working = "working"


class BranchStatus(enum.StrEnum):
    draft = "draft"
    ready_for_review = "ready_for_review"
    changes_requested = "changes_requested"
    approved = "approved"
    merged = "merged"
    closed = "closed"


class PlanBranch(IdMixin, TimestampMixin, Base):
    """A line of plan edits. Every plan row belongs to one; `main` is the published plan."""

    __tablename__ = "plan_branches"
    __table_args__ = (
        Index(
            "uq_plan_branches_one_main",
            "project_id",
            unique=True,
            sqlite_where=text("kind = 'main'"),
            postgresql_where=text("kind = 'main'"),
        ),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[BranchKind] = mapped_column(Enum(BranchKind, native_enum=False, length=16))
    status: Mapped[BranchStatus] = mapped_column(Enum(BranchStatus, native_enum=False, length=32))
    description: Mapped[str] = mapped_column(Text, default="")
    base_revision_id: Mapped[uuid.UUID | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    merged_at: Mapped[datetime | None]
    merged_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
