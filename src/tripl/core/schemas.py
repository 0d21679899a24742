"""Types shared by request and response schemas of every domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel


def assume_utc(value: datetime) -> datetime:
    """Naive datetimes from clients are taken as UTC; aware ones are converted to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(assume_utc)]

T = TypeVar("T")

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def refuse_null(value: T | None) -> T:
    """PATCH bodies: a NOT NULL column may be omitted, but an explicit null is a 422."""
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


def sent_changes(body: BaseModel, *, immutable: tuple[str, ...] = ("name",)) -> dict[str, Any]:
    """The keys a PATCH body really sent, minus immutable ones; a null description clears it."""
    sent = body.model_dump(exclude_unset=True)
    for key in immutable:
        sent.pop(key, None)
    if "description" in sent and sent["description"] is None:
        sent["description"] = ""
    return sent
