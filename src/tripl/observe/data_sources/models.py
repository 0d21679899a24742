from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tripl.core.db import Base, IdMixin, TimestampMixin
from tripl.observe.warehouse.base import DBType


class TestStatus(enum.StrEnum):
    __test__ = False  # not a pytest class
    success = "success"
    failed = "failed"


class DataSource(IdMixin, TimestampMixin, Base):
    """A warehouse connection, instance-wide. Secrets are Fernet-encrypted and never returned."""

    __tablename__ = "data_sources"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    db_type: Mapped[DBType] = mapped_column(Enum(DBType, native_enum=False, length=16))
    host: Mapped[str] = mapped_column(String(500))
    port: Mapped[int] = mapped_column(default=8123)
    database_name: Mapped[str] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(String(255), default="")
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    timeout_seconds: Mapped[int | None]
    extra_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Secret keys pulled out of extra_params (e.g. BigQuery credentials JSON), encrypted as one blob.
    secret_params_encrypted: Mapped[str | None] = mapped_column(Text)
    last_test_at: Mapped[datetime | None]
    last_test_status: Mapped[TestStatus | None] = mapped_column(
        Enum(TestStatus, native_enum=False, length=16)
    )
    last_test_message: Mapped[str | None] = mapped_column(Text)
