from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tripl.core.db import utcnow
from tripl.core.errors import NotFound
from tripl.core.security import new_token, sha256_hex
from tripl.plan.projects.models import Project
from tripl.workspace.api_keys.models import ApiKey, ApiKeyScope
from tripl.workspace.audit import service as audit
from tripl.workspace.users.models import User

PREFIX_LENGTH = 11  # "tk_r_" + 6 random characters


def list_keys(db: Session, user: User) -> list[ApiKey]:
    return list(
        db.scalars(
            select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at.desc(), ApiKey.id)
        )
    )


def create_key(
    db: Session,
    user: User,
    *,
    name: str,
    scope: ApiKeyScope,
    expires_in_days: int | None,
    project_slug: str | None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw token, which is never stored or shown again."""
    project = None
    if project_slug is not None:
        project = db.scalar(select(Project).where(Project.slug == project_slug))
        if project is None:
            raise NotFound("Project not found")
    token = f"tk_{scope.value[0]}_{new_token(24)}"
    now = utcnow()
    key = ApiKey(
        user_id=user.id,
        name=name,
        key_prefix=token[:PREFIX_LENGTH],
        token_hash=sha256_hex(token),
        scope=scope,
        project_id=project.id if project else None,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        created_at=now,
    )
    db.add(key)
    db.flush()
    audit.record(
        db,
        user,
        "api_key.create",
        target_type="api_key",
        target_id=key.id,
        target_name=name,
        project_id=project.id if project else None,
        project_slug=project.slug if project else "",
        payload={"scope": scope.value, "expires_in_days": expires_in_days, "project_slug": project_slug},
    )
    return key, token


def revoke_key(db: Session, user: User, key_id: uuid.UUID) -> None:
    key = db.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user.id))
    if key is None:
        raise NotFound("API key not found")
    if key.revoked_at is not None:
        return
    key.revoked_at = utcnow()
    audit.record(db, user, "api_key.revoke", target_type="api_key", target_id=key.id, target_name=key.name)
