"""Instance settings: an owner's stored override wins over the environment, which wins over
the default. Only a few settings are read through here so far (registration)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tripl.config import Settings
from tripl.workspace.settings.models import SettingOverride


def get_override(db: Session, key: str) -> Any | None:
    row = db.scalar(select(SettingOverride).where(SettingOverride.key == key))
    return None if row is None else row.value


def set_override(db: Session, key: str, value: Any, user_id: uuid.UUID | None) -> None:
    row = db.get(SettingOverride, key)
    if row is None:
        db.add(SettingOverride(key=key, value=value, updated_by=user_id))
    else:
        row.value = value
        row.updated_by = user_id


def registration_mode(db: Session, settings: Settings) -> str:
    override = get_override(db, "security.registration_mode")
    return str(override) if override is not None else settings.registration_mode
