"""Instance configuration: one Settings object, read from TRIPL_* environment variables.

Secrets that the embedded default needs (session signing key, encryption key) are generated
into the data directory on first start, so a fresh install works without any configuration
and keeps working across restarts.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRIPL_", env_file=None, extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file in the data directory"
    )
    queue_url: str | None = Field(
        default=None, description="redis://… for a shared queue; default is a SQLite queue file"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str | None = None
    worker_threads: int = 2
    run_worker_in_process: bool = True

    secret_key: str | None = None
    encryption_key: str | None = None

    session_cookie_name: str = "tripl_session"
    session_cookie_secure: bool = False
    session_ttl_hours: int = Field(default=168, ge=1)
    registration_mode: Literal["open", "disabled"] = "open"
    trusted_origins: list[str] = Field(default_factory=list)
    trusted_proxies: list[str] = Field(default_factory=list)
    login_rate_limit_per_minute: int = Field(default=5, ge=1)
    register_rate_limit_per_hour: int = Field(default=3, ge=1)

    photo_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    photo_storage_backend: Literal["local", "gcs"] = "local"
    gcs_bucket: str | None = None
    gcs_endpoint: str | None = Field(
        default=None, description="Storage API endpoint for emulators; requests are then anonymous"
    )
    gcs_credentials_file: str | None = Field(
        default=None, description="Service account JSON; default is the environment's credentials"
    )
    log_level: str = "INFO"

    # Service settings an owner may override in the UI (workspace/settings); env sets the base.
    debug: bool = False
    scan_row_limit_default: int = Field(default=50_000, ge=1)
    metrics_row_limit_default: int = Field(default=100_000, ge=1)
    cors_allow_origins: str = ""
    security_headers_enabled: bool = True
    hsts_enabled: bool = False
    hsts_max_age_seconds: int = Field(default=31_536_000, ge=0)
    content_security_policy: str = "default-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'"
    rate_limit_enabled: bool = True
    rate_limit_trust_forwarded_for: bool = True
    photo_local_dir: str = ""
    photo_allowed_mime: str = "image/jpeg,image/png,image/gif,image/webp"
    gcs_photo_public: bool = False
    gcs_photo_signed_url_ttl_seconds: int = Field(default=3600, ge=1)
    request_id_header: str = "X-Request-ID"
    log_json: bool = False
    prometheus_metrics_enabled: bool = False
    otel_exporter_otlp_endpoint: str = ""
    otel_service_name: str = "tripl"
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str | None = None
    smtp_security: Literal["none", "starttls", "implicit_tls"] = "starttls"
    smtp_from_address: str = ""
    ai_enabled: bool = False
    ai_base_url: str = "https://api.openai.com/v1"
    ai_model: str = "gpt-4o-mini"
    ai_api_key: str | None = None
    ai_timeout_seconds: int = Field(default=30, ge=1)
    ai_max_output_tokens: int = Field(default=700, ge=1)
    describe_system_prompt: str = (
        "You document analytics events for a tracking plan. Given an event's names, type, "
        'description and fields, answer with JSON: {"description": str, "field_suggestions": '
        '[{"field_name": str, "description": str}]}. Be concise and factual.'
    )
    ask_system_prompt: str = (
        "You answer questions about an analytics tracking plan using only the numbered context "
        "entries given. Cite entries by number. If the context does not answer, say so."
    )
    alert_explanation_system_prompt: str = (
        "You explain a monitoring alert on analytics event volumes to a product analyst in two or "
        "three sentences: what changed, how unusual it is, and what to check first."
    )
    search_embeddings_enabled: bool = False
    search_embedding_provider: str = "openai"
    search_embedding_model: str = "text-embedding-3-small"
    search_embedding_api_key: str | None = None
    search_embedding_dimensions: int = Field(default=1536, ge=1)
    search_embedding_base_url: str = "https://api.openai.com/v1"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tripl.db').resolve()}"

    @property
    def resolved_queue_url(self) -> str:
        if self.queue_url:
            return self.queue_url
        return f"sqlite:///{(self.data_dir / 'queue.db').resolve()}"

    @cached_property
    def resolved_secret_key(self) -> str:
        return self.secret_key or self._generated_secret("secret_key", lambda: secrets.token_urlsafe(48))

    @cached_property
    def resolved_encryption_key(self) -> str:
        return self.encryption_key or self._generated_secret(
            "encryption_key", lambda: Fernet.generate_key().decode()
        )

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def _generated_secret(self, name: str, make: Callable[[], str]) -> str:
        self.ensure_data_dir()
        path = self.data_dir / name
        if path.exists():
            return path.read_text().strip()
        value = make()
        path.touch(mode=0o600)
        path.write_text(value)
        return value
