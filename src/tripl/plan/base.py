"""Columns every top-level plan row shares: its project and the plan branch it lives on."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


class Sensitivity(enum.StrEnum):
    none = "none"
    pii = "pii"
    phi = "phi"
    financial = "financial"
    secret = "secret"  # noqa: S105 - a sensitivity label, not a password


class PlanScoped:
    @declared_attr
    def project_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def branch_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("plan_branches.id", ondelete="CASCADE"), index=True)
