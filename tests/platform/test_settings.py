from pathlib import Path

import pytest
from pydantic import ValidationError

from backend.core.settings import DEVELOPMENT_SECRET, Settings


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        Settings(environment="production", _env_file=None)


def test_production_refuses_the_development_secret(monkeypatch):
    with pytest.raises(ValidationError, match="development default"):
        Settings(environment="production", secret_key=DEVELOPMENT_SECRET, _env_file=None)


def test_development_runs_on_an_embedded_sqlite_file_in_the_working_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings(environment="development", _env_file=None)
    assert settings.database_url == f"sqlite:///{Path(tmp_path) / 'internmatch.db'}"
    assert settings.is_sqlite and settings.worker_in_process
    assert settings.secret_key == DEVELOPMENT_SECRET
    assert not settings.secure_cookies


def test_cookies_are_secure_in_production():
    settings = Settings(environment="production", secret_key="x" * 40, _env_file=None)
    assert settings.secure_cookies
