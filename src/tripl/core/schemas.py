"""Types shared by request and response schemas of every domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def assume_utc(value: datetime) -> datetime:
    """Naive datetimes from clients are taken as UTC; aware ones are converted to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(assume_utc)]

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
