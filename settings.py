"""Slotboard's one settings class.

Sources, first match wins: init arguments, then the process environment, then
`.streamlit/secrets.toml` (or the file named by `SLOTBOARD_SECRETS_FILE`).
Every cloud setting is optional: without it, Slotboard takes its offline path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ROOT = Path(__file__).resolve().parent
DEFAULT_SQLITE_PATH = ROOT / "var" / "slotboard.db"
PLACEHOLDERS = {"changeme", "change-me", "secret", "password", "xxx", "todo"}


def _secrets_file() -> Path:
    return Path(os.environ.get("SLOTBOARD_SECRETS_FILE", ROOT / ".streamlit" / "secrets.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    app_env: Literal["development", "production", "test"] = "development"
    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    log_level: str = "INFO"

    # Sign-in
    supabase_url: str | None = None
    supabase_anon_key: SecretStr | None = None
    sign_in_free_failures: int = Field(3, ge=1, description="failures before the delay starts")
    sign_in_max_delay_seconds: int = Field(900, ge=1)

    # Recommendations (OpenAI or any compatible server)
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str | None = None
    openai_timeout_seconds: float = 30.0

    # SMS (Twilio)
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None

    # E-mail (SMTP)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True

    # Retention models (churn and no-show risk)
    models_dir: Path = ROOT / "var" / "models"
    churn_horizon_days: int = Field(
        90, ge=14, le=365, description="churned = no completed visit within this many days"
    )

    # Dispatcher
    send_rate_per_second: float = Field(5.0, gt=0)
    quiet_hours_start: str = "21:00"
    quiet_hours_end: str = "08:00"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_secrets_file())
        return (init_settings, env_settings, toml)

    @field_validator("database_url")
    @classmethod
    def _url_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("DATABASE_URL is empty")
        return value.strip()

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> Settings:
        if self.app_env != "production":
            return self
        for name in ("openai_api_key", "twilio_auth_token", "smtp_password", "supabase_anon_key"):
            secret = getattr(self, name)
            if secret is not None and secret.get_secret_value().lower() in PLACEHOLDERS:
                raise ValueError(f"{name.upper()} holds a placeholder; set the real secret")
        return self

    @property
    def supabase_auth_enabled(self) -> bool:
        return bool(self.supabase_url and self.supabase_anon_key)

    @property
    def openai_enabled(self) -> bool:
        return self.openai_api_key is not None

    @property
    def twilio_enabled(self) -> bool:
        has_sender = bool(self.twilio_from_number or self.twilio_messaging_service_sid)
        return bool(self.twilio_account_sid and self.twilio_auth_token and has_sender)

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_from)

    def provider_paths(self) -> dict[str, str]:
        """Which path each cloud-backed feature takes now: shown in the UI and on Health."""
        return {
            "Sign-in": "Supabase Auth" if self.supabase_auth_enabled else "local accounts",
            "Recommendations": (
                f"OpenAI ({self.openai_model})" if self.openai_enabled else "offline rule engine"
            ),
            "SMS": "Twilio" if self.twilio_enabled else "outbox only (nothing leaves the machine)",
            "E-mail": (
                f"SMTP ({self.smtp_host})"
                if self.smtp_enabled
                else "outbox only (nothing leaves the machine)"
            ),
        }


def load_settings(**overrides: object) -> Settings:
    """Read settings; raises pydantic.ValidationError with the offending key named."""
    return Settings(**overrides)  # type: ignore[arg-type]
