"""One Settings object for the whole service (contract §5), read from the environment and `.env`.

Build it with `get_settings()` (cached) or `Settings()` in tests; the app keeps its own copy on
`app.state.settings`, so tests can run several apps with different settings side by side.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    # Relative to where the service is started: `make run` starts it at the repository root.
    return f"sqlite:///{Path.cwd() / 'var' / 'hotline.db'}"


def env(name: str, *more: str):
    """Read a field from exactly these environment variable names (no prefix games)."""
    return AliasChoices(name, *more)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      populate_by_name=True)

    # --- contract §5 ---
    as_of: date | None = Field(None, validation_alias=env("HOTLINE_AS_OF", "as_of"))
    database_url: str = Field(default_factory=default_database_url,
                              validation_alias=env("HOTLINE_DATABASE_URL", "database_url"))
    admin_password: SecretStr | None = Field(None, validation_alias=env("HOTLINE_ADMIN_PASSWORD", "admin_password"))
    wechat_token: str | None = Field(None, validation_alias=env("WECHAT_TOKEN", "wechat_token"))
    wechat_encoding_aes_key: str | None = Field(
        None, validation_alias=env("WECHAT_ENCODING_AES_KEY", "wechat_encoding_aes_key"))
    wechat_app_id: str | None = Field(None, validation_alias=env("WECHAT_APP_ID", "wechat_app_id"))
    wechat_app_secret: SecretStr | None = Field(None, validation_alias=env("WECHAT_APP_SECRET", "wechat_app_secret"))
    # WeChat channel (service/channels/wechat.py): WeChat waits 5 s for a passive reply; past the
    # deadline the answer goes out later through the customer-service message API.
    wechat_reply_deadline_seconds: float = Field(
        4.0, gt=0, validation_alias=env("WECHAT_REPLY_DEADLINE_SECONDS", "wechat_reply_deadline_seconds"))
    wechat_timestamp_window_seconds: int = Field(
        300, ge=1, validation_alias=env("WECHAT_TIMESTAMP_WINDOW_SECONDS", "wechat_timestamp_window_seconds"))
    wechat_max_body_bytes: int = Field(
        16 * 1024, ge=1024, validation_alias=env("WECHAT_MAX_BODY_BYTES", "wechat_max_body_bytes"))
    wechat_workers: int = Field(32, ge=1, validation_alias=env("WECHAT_WORKERS", "wechat_workers"))
    wechat_api_base_url: str = Field(
        "https://api.weixin.qq.com", validation_alias=env("WECHAT_API_BASE_URL", "wechat_api_base_url"))

    # --- the parts the service talks to ---
    rasa_url: str = Field("http://127.0.0.1:5005", validation_alias=env("HOTLINE_RASA_URL", "rasa_url"))
    action_server_url: str = Field("http://127.0.0.1:5055",
                                   validation_alias=env("HOTLINE_ACTION_SERVER_URL", "action_server_url"))
    rasa_timeout_seconds: float = Field(15.0, validation_alias=env("HOTLINE_RASA_TIMEOUT", "rasa_timeout_seconds"))
    health_timeout_seconds: float = Field(1.0, validation_alias=env("HOTLINE_HEALTH_TIMEOUT", "health_timeout_seconds"))
    # Written by service.supervisor: which children are up, so /healthz can say which part is down.
    supervisor_state_file: Path | None = Field(
        None, validation_alias=env("HOTLINE_SUPERVISOR_STATE", "supervisor_state_file"))

    # --- security ---
    # Static token of the action server (role `bot`: may open tickets, nothing else).
    bot_token: SecretStr | None = Field(None, validation_alias=env("HOTLINE_BOT_TOKEN", "bot_token"))
    # JWT signing key; `make run` generates one under var/ when unset. Unset here: a random
    # per-process key (tokens do not survive a restart).
    secret_key: SecretStr | None = Field(None, validation_alias=env("HOTLINE_SECRET_KEY", "secret_key"))
    access_token_minutes: int = Field(480, ge=1, validation_alias=env("HOTLINE_ACCESS_TOKEN_MINUTES", "access_token_minutes"))
    login_max_failures: int = Field(5, ge=1, validation_alias=env("HOTLINE_LOGIN_MAX_FAILURES", "login_max_failures"))
    login_window_seconds: int = Field(900, ge=1, validation_alias=env("HOTLINE_LOGIN_WINDOW_SECONDS", "login_window_seconds"))

    # --- tickets and outbox ---
    sla_first_action_minutes: int = Field(30, ge=1, validation_alias=env("HOTLINE_SLA_FIRST_ACTION_MINUTES", "sla_first_action_minutes"))
    # "log" (default) or "package.module:factory" — factory(settings) -> Notifier.
    notifier: str = Field("log", validation_alias=env("HOTLINE_NOTIFIER", "notifier"))
    outbox_enabled: bool = Field(True, validation_alias=env("HOTLINE_OUTBOX_ENABLED", "outbox_enabled"))
    outbox_poll_seconds: float = Field(2.0, gt=0, validation_alias=env("HOTLINE_OUTBOX_POLL_SECONDS", "outbox_poll_seconds"))
    outbox_max_attempts: int = Field(8, ge=1, validation_alias=env("HOTLINE_OUTBOX_MAX_ATTEMPTS", "outbox_max_attempts"))
    outbox_backoff_seconds: float = Field(2.0, gt=0, validation_alias=env("HOTLINE_OUTBOX_BACKOFF_SECONDS", "outbox_backoff_seconds"))
    outbox_lease_seconds: float = Field(60.0, gt=0, validation_alias=env("HOTLINE_OUTBOX_LEASE_SECONDS", "outbox_lease_seconds"))
    # Urgent cases held while the database is down (service/services/held_tickets.py), one
    # sub-directory per database. Unset: var/held-tickets under the working directory. It must be
    # writable and outlive the process (a volume in deploy/), or cases are held in memory only.
    held_tickets_dir: Path | None = Field(None, validation_alias=env("HOTLINE_HELD_TICKETS_DIR", "held_tickets_dir"))

    # --- requests and logs ---
    max_body_bytes: int = Field(64 * 1024, ge=1024, validation_alias=env("HOTLINE_MAX_BODY_BYTES", "max_body_bytes"))
    max_text_chars: int = Field(2000, ge=1, validation_alias=env("HOTLINE_MAX_TEXT_CHARS", "max_text_chars"))
    log_level: str = Field("INFO", validation_alias=env("HOTLINE_LOG_LEVEL", "log_level"))
    run_migrations: bool = Field(True, validation_alias=env("HOTLINE_RUN_MIGRATIONS", "run_migrations"))

    @field_validator("as_of", "held_tickets_dir", mode="before")
    @classmethod
    def empty_as_none(cls, value):
        return None if value == "" else value

    @property
    def wechat_encrypted(self) -> bool:
        return bool(self.wechat_encoding_aes_key and self.wechat_app_id)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
