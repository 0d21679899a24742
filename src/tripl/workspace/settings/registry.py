"""Which service settings exist, where each one lives in `Settings`, and how it is stored.

A setting is named `section.field` (the contract's dotted name). Its environment/default value
comes from one attribute of `tripl.config.Settings`; an owner's override is a row in
`setting_overrides` keyed by the dotted name. Secrets are stored Fernet-encrypted and only
ever reported as `<field>_configured`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MIB = 1024 * 1024


@dataclass(frozen=True)
class SettingDef:
    section: str
    field: str
    attr: str
    secret: bool = False
    read_only: bool = False
    # Converts the Settings attribute into the contract's unit (e.g. bytes -> MB).
    from_env: Callable[[Any], Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.section}.{self.field}"


def _same(section: str, *fields: str, read_only: bool = False) -> list[SettingDef]:
    return [SettingDef(section, f, f, read_only=read_only) for f in fields]


SETTINGS: list[SettingDef] = [
    SettingDef("runtime", "app_base_url", "base_url"),
    *_same("runtime", "scan_row_limit_default", "metrics_row_limit_default"),
    *_same(
        "security",
        "cors_allow_origins",
        "session_cookie_name",
        "session_ttl_hours",
        "session_cookie_secure",
        "security_headers_enabled",
        "hsts_enabled",
        "hsts_max_age_seconds",
        "content_security_policy",
        "rate_limit_enabled",
    ),
    SettingDef("security", "rate_limit_login_per_minute", "login_rate_limit_per_minute"),
    SettingDef("security", "rate_limit_register_per_hour", "register_rate_limit_per_hour"),
    *_same("security", "rate_limit_trust_forwarded_for", "registration_mode"),
    *_same("storage", "photo_storage_backend", "photo_local_dir"),
    SettingDef("storage", "photo_max_size_mb", "photo_max_bytes", from_env=lambda v: max(1, v // MIB)),
    SettingDef("storage", "photo_allowed_mime", "photo_allowed_mime"),
    SettingDef("storage", "gcs_photo_bucket", "gcs_bucket"),
    SettingDef("storage", "gcs_photo_credentials_path", "gcs_credentials_file"),
    *_same("storage", "gcs_photo_public", "gcs_photo_signed_url_ttl_seconds"),
    *_same(
        "observability",
        "request_id_header",
        "log_level",
        "log_json",
        "prometheus_metrics_enabled",
        "otel_exporter_otlp_endpoint",
        "otel_service_name",
    ),
    *_same("email", "smtp_host", "smtp_port", "smtp_username"),
    SettingDef("email", "smtp_password", "smtp_password", secret=True),
    *_same("email", "smtp_security", "smtp_from_address"),
    *_same("ai", "ai_enabled", "ai_base_url", "ai_model"),
    SettingDef("ai", "ai_api_key", "ai_api_key", secret=True),
    *_same(
        "ai",
        "ai_timeout_seconds",
        "ai_max_output_tokens",
        "describe_system_prompt",
        "ask_system_prompt",
        "alert_explanation_system_prompt",
        "search_embeddings_enabled",
        "search_embedding_provider",
        "search_embedding_model",
    ),
    SettingDef("ai", "search_embedding_api_key", "search_embedding_api_key", secret=True),
    *_same("ai", "search_embedding_dimensions", "search_embedding_base_url", read_only=True),
]

BY_KEY: dict[str, SettingDef] = {s.key: s for s in SETTINGS}
SECTIONS: tuple[str, ...] = ("runtime", "security", "storage", "observability", "email", "ai")
