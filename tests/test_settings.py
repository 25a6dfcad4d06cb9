"""Settings: sources in order, validation, and the documented example file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import DEFAULT_SQLITE_PATH, ROOT, Settings, load_settings


def test_defaults_are_offline_sqlite() -> None:
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{DEFAULT_SQLITE_PATH}"
    assert DEFAULT_SQLITE_PATH.parent.name == "var"
    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text()
    assert "var/" in (ROOT / ".gitignore").read_text()
    paths = settings.provider_paths()
    assert paths["Sign-in"] == "local accounts"
    assert paths["Recommendations"] == "offline rule engine"
    assert paths["SMS"].startswith("outbox only")
    assert paths["E-mail"].startswith("outbox only")


def test_environment_wins_over_secrets_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('database_url = "sqlite:///from-file.db"\nopenai_model = "from-file"\n')
    monkeypatch.setenv("SLOTBOARD_SECRETS_FILE", str(secrets))
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from-env.db")
    settings = load_settings()
    assert settings.database_url == "sqlite:///from-env.db"
    assert settings.openai_model == "from-file"
    assert load_settings(openai_model="from-init").openai_model == "from-init"


def test_secrets_are_secret_and_enable_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    monkeypatch.setenv("SUPABASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SUPABASE_ANON_KEY", "anon-key")
    settings = load_settings()
    assert "sk-test-123" not in repr(settings)
    assert settings.openai_enabled and settings.supabase_auth_enabled
    assert settings.provider_paths()["Sign-in"] == "Supabase Auth"


def test_production_refuses_placeholder_secrets() -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(app_env="production", openai_api_key="changeme")
    Settings(app_env="development", openai_api_key="changeme")  # fine while developing


def test_empty_database_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL is empty"):
        Settings(database_url="  ")


def test_example_documents_every_setting() -> None:
    text = (ROOT / ".streamlit" / "secrets.toml.example").read_text()
    documented = set(re.findall(r"^#?\s?([a-z_]+) = ", text, flags=re.MULTILINE))
    assert documented == set(Settings.model_fields)
