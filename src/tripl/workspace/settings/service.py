"""Instance settings: an owner's stored override wins over the environment, which wins over
the default (the `Settings` field's own default).

`effective()` is the one way other areas read a setting that owners may change at runtime.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import delete, inspect, select, text
from sqlalchemy.orm import Session

from tripl.config import Settings
from tripl.core.migrate import alembic_config
from tripl.core.security import Cipher
from tripl.workspace.audit import service as audit
from tripl.workspace.settings import schemas as s
from tripl.workspace.settings.models import SettingOverride
from tripl.workspace.settings.registry import BY_KEY, SETTINGS, SettingDef
from tripl.workspace.users.models import User

OVERRIDE, ENV, DEFAULT = "override", "env", "default"


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


def clear_override(db: Session, key: str) -> None:
    db.execute(delete(SettingOverride).where(SettingOverride.key == key))


def _overrides(db: Session) -> dict[str, Any]:
    return {row.key: row.value for row in db.scalars(select(SettingOverride))}


def _base_value(settings: Settings, sdef: SettingDef) -> tuple[Any, str]:
    value = getattr(settings, sdef.attr)
    if sdef.from_env is not None and value is not None:
        value = sdef.from_env(value)
    return value, ENV if sdef.attr in settings.model_fields_set else DEFAULT


def _resolve(settings: Settings, overrides: dict[str, Any], sdef: SettingDef) -> tuple[Any, str]:
    """Effective value and its source. Secrets come back as stored (ciphertext when overridden)."""
    if sdef.key in overrides and not sdef.read_only:
        return overrides[sdef.key], OVERRIDE
    return _base_value(settings, sdef)


def effective(db: Session, settings: Settings, key: str, cipher: Cipher | None = None) -> Any:
    """The value in force for `section.field` (secrets need the cipher and come back plain)."""
    sdef = BY_KEY[key]
    stored = get_override(db, key)
    value, source = _resolve(settings, {} if stored is None else {key: stored}, sdef)
    if sdef.secret and source == OVERRIDE and value:
        if cipher is None:
            raise ValueError(f"{key} is a secret; pass the cipher to read it")
        return cipher.decrypt(value)
    return value


def registration_mode(db: Session, settings: Settings) -> str:
    return str(effective(db, settings, "security.registration_mode"))


@dataclass(frozen=True)
class Snapshot:
    values: dict[str, Any]
    sources: dict[str, str]
    overridden: list[str]

    def section(self, name: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for sdef in SETTINGS:
            if sdef.section != name:
                continue
            value = self.values[sdef.key]
            if sdef.secret:
                out[f"{sdef.field}_configured"] = bool(value)
            else:
                out[sdef.field] = "" if value is None else value
        return out


def snapshot(db: Session, settings: Settings, section: str | None = None) -> Snapshot:
    overrides = _overrides(db)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for sdef in SETTINGS:
        if section is not None and sdef.section != section:
            continue
        values[sdef.key], sources[sdef.key] = _resolve(settings, overrides, sdef)
    overridden = sorted(k for k, src in sources.items() if src == OVERRIDE)
    return Snapshot(values, sources, overridden)


def service_settings(db: Session, settings: Settings) -> s.ServiceSettingsResponse:
    snap = snapshot(db, settings)
    return s.ServiceSettingsResponse(
        runtime=s.RuntimeSettings(**snap.section("runtime")),
        security=s.SecuritySettings(**snap.section("security")),
        storage=s.StorageSettings(**snap.section("storage")),
        observability=s.ObservabilitySettings(**snap.section("observability")),
        email=s.EmailSettings(**snap.section("email")),
        ai=s.AiSettings(**snap.section("ai")),
        system=system_facts(db, settings, snap),
        overridden_fields=snap.overridden,
        sources=snap.sources,
    )


def ai_settings(db: Session, settings: Settings) -> s.AiSettingsResponse:
    snap = snapshot(db, settings, "ai")
    return s.AiSettingsResponse(
        ai=s.AiSettings(**snap.section("ai")),
        overridden_fields=snap.overridden,
        sources=snap.sources,
    )


def update(
    db: Session, settings: Settings, cipher: Cipher, actor: User, changes: dict[str, dict[str, Any]]
) -> None:
    """Sparse upsert of overrides: a value stores an override, None removes it. One audit row."""
    applied: dict[str, Any] = {}
    for section, fields in changes.items():
        for field, value in (fields or {}).items():
            sdef = BY_KEY[f"{section}.{field}"]
            if value is None:
                clear_override(db, sdef.key)
            else:
                stored = cipher.encrypt(value) if sdef.secret and value else value
                set_override(db, sdef.key, stored, actor.id)
            applied[sdef.key] = value
    if applied:
        audit.record(
            db, actor, "settings.update", target_type="settings", target_name="service", payload=applied
        )


@lru_cache(maxsize=1)
def _head_revision() -> str | None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    return ",".join(sorted(heads)) or None


def _db_revision(db: Session) -> str | None:
    if not inspect(db.connection()).has_table("alembic_version"):
        return None
    versions = db.scalars(text("SELECT version_num FROM alembic_version")).all()
    return ",".join(sorted(versions)) or None


def system_facts(db: Session, settings: Settings, snap: Snapshot) -> s.SystemSettings:
    revision, head = _db_revision(db), _head_revision()
    queue_url = settings.resolved_queue_url
    return s.SystemSettings(
        debug=settings.debug,
        database_url_configured=settings.database_url is not None,
        sync_database_url_configured=settings.database_url is not None,
        rabbitmq_url_configured=queue_url.startswith("amqp"),
        redis_url_configured=queue_url.startswith("redis"),
        encryption_key_configured=settings.encryption_key is not None,
        openai_api_key_configured=bool(snap.values.get("ai.ai_api_key")),
        alembic_revision=revision,
        alembic_head_revision=head,
        alembic_up_to_date=revision is not None and revision == head,
    )


@dataclass(frozen=True)
class AiConfig:
    enabled: bool
    base_url: str
    model: str
    api_key: str | None
    timeout_seconds: int
    max_output_tokens: int
    describe_system_prompt: str
    ask_system_prompt: str
    alert_explanation_system_prompt: str


def ai_config(db: Session, settings: Settings, cipher: Cipher) -> AiConfig:
    """Effective LLM settings with the API key decrypted (ValueError if it cannot be)."""
    snap = snapshot(db, settings, "ai")
    v = {key.removeprefix("ai."): value for key, value in snap.values.items()}
    api_key = v["ai_api_key"]
    if api_key and snap.sources["ai.ai_api_key"] == OVERRIDE:
        api_key = cipher.decrypt(api_key)
    return AiConfig(
        enabled=bool(v["ai_enabled"]),
        base_url=str(v["ai_base_url"] or ""),
        model=str(v["ai_model"] or "gpt-4o-mini"),
        api_key=api_key or None,
        timeout_seconds=int(v["ai_timeout_seconds"]),
        max_output_tokens=int(v["ai_max_output_tokens"]),
        describe_system_prompt=str(v["describe_system_prompt"]),
        ask_system_prompt=str(v["ask_system_prompt"]),
        alert_explanation_system_prompt=str(v["alert_explanation_system_prompt"]),
    )
