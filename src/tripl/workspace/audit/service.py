from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tripl.workspace.audit.models import AuditEntry
from tripl.workspace.users.models import User

SECRET_MARKERS = ("password", "secret", "token", "credential", "api_key", "apikey", "webhook")
MASK = "***"


def mask_secrets(value: Any) -> Any:
    """Copy of a payload with the value of every secret-looking key replaced by ***."""
    if isinstance(value, dict):
        return {
            k: MASK if _is_secret_key(str(k)) and v not in (None, "") else mask_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(marker in lowered for marker in SECRET_MARKERS) and not lowered.endswith("_set")


def record(
    db: Session,
    actor: User | None,
    action: str,
    *,
    target_type: str = "",
    target_id: uuid.UUID | None = None,
    target_name: str = "",
    project_id: uuid.UUID | None = None,
    project_slug: str = "",
    payload: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit row in the caller's transaction."""
    entry = AuditEntry(
        user_id=actor.id if actor else None,
        user_email=actor.email if actor else "",
        project_id=project_id,
        project_slug=project_slug,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_name=target_name[:500],
        payload=mask_secrets(_jsonable(payload or {})),
    )
    db.add(entry)
    return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID | enum.Enum):
        return str(value.value if isinstance(value, enum.Enum) else value)
    return value


@dataclass(frozen=True)
class AuditFilter:
    project_slug: str | None = None
    action: str | None = None
    user_id: uuid.UUID | None = None
    user_email: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_entries(db: Session, f: AuditFilter, *, limit: int, offset: int) -> tuple[list[AuditEntry], int]:
    query: Select[AuditEntry] = select(AuditEntry)
    if f.project_slug:
        query = query.where(AuditEntry.project_slug == f.project_slug)
    if f.action:
        query = query.where(AuditEntry.action == f.action)
    if f.user_id:
        query = query.where(AuditEntry.user_id == f.user_id)
    if f.user_email:
        query = query.where(AuditEntry.user_email.icontains(f.user_email, autoescape=True))
    if f.since:
        query = query.where(AuditEntry.created_at >= f.since)
    if f.until:
        query = query.where(AuditEntry.created_at < f.until)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total
