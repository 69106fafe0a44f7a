"""The one settings class. Values come from the environment (or a .env file), never from code."""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret-key-not-for-production"  # noqa: S105

# The largest applicants.csv an import accepts (backend.applicants.csv_import).
CSV_IMPORT_MAX_BYTES = 5 * 1024 * 1024
# Boundaries, part headers and the other form fields around an uploaded file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Ordinary forms and JSON. The largest legitimate one is a project draft: six bilingual texts of up to
# 5,000 + 5,000 + 4 x 200 characters, Chinese percent-encoded at 9 bytes a character, about 100 KB.
FORM_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class BodyLimit:
    """Requests to paths matching `pattern` may send at most `max_bytes`; `kind` picks the refusal's words."""

    pattern: re.Pattern
    max_bytes: int
    kind: str


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.cwd() / 'internmatch.db'}")
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"

    session_idle_minutes: int = 60
    session_max_hours: int = 12

    upload_dir: Path = Field(default_factory=lambda: Path.cwd() / "var" / "uploads")
    cv_max_bytes: int = 5 * 1024 * 1024

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "internmatch <no-reply@internmatch.example.hk>"
    mail_folder: Path = Field(default_factory=lambda: Path.cwd() / "var" / "mail")

    unplaced_retention_days: int = 365
    # Complaints: staff acknowledge one within this many Hong Kong working days; a decided case's text is
    # erased this many days after the decision (its outcome stays for the organisation's track record).
    complaint_acknowledge_working_days: int = 5
    complaint_retention_days: int = 730
    # Where people write with questions, accessibility problems and personal data access or correction requests
    # (the legal pages show it); a deployment sets the Department's real address.
    enquiries_email: str = "enquiries@internmatch.example.hk"
    # Interns confirm what they received after the internship: a reminder this many days after the request
    # (at most `confirmation_reminders` of them); an intern's survey comments are erased after the retention.
    confirmation_remind_after_days: int = 7
    confirmation_reminders: int = 2
    confirmation_retention_days: int = 730
    # SQLite cannot share a worker across processes, so `serve` runs the match worker in-process there.
    run_worker_in_process: bool | None = None

    @model_validator(mode="after")
    def _secret_required_outside_development(self) -> "Settings":
        if not self.secret_key:
            if self.environment == "production":
                raise ValueError(
                    "SECRET_KEY must be set in production: refusing to start with a default secret."
                )
            self.secret_key = DEVELOPMENT_SECRET
        elif self.environment == "production" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError("SECRET_KEY is the development default: set a real secret in production.")
        return self

    def body_limits(self) -> tuple[BodyLimit, ...]:
        """The one table of request-body limits, first match wins; other paths get FORM_MAX_BYTES.

        backend.core.middleware.BodyLimitMiddleware applies it before anything parses the body, so an
        oversized upload is refused before sign-in, CSRF or the form parser has written any of it to disk.
        """
        return (
            BodyLimit(re.compile(r"^(/profile/cv|/api/v1/me/cv)$"), self.cv_max_bytes + MULTIPART_OVERHEAD_BYTES,
                      "cv"),
            # The rejected rows of an import are posted back to be downloaded: as large as the import's report.
            BodyLimit(re.compile(r"^(/api/v1)?/applicants/import(/rejections\.csv)?$"),
                      CSV_IMPORT_MAX_BYTES + MULTIPART_OVERHEAD_BYTES, "import"),
            BodyLimit(re.compile(r""), FORM_MAX_BYTES, "form"),
        )

    def body_limit(self, path: str) -> BodyLimit:
        return next(limit for limit in self.body_limits() if limit.pattern.match(path))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.environment == "production"

    @property
    def worker_in_process(self) -> bool:
        if self.run_worker_in_process is not None:
            return self.run_worker_in_process
        return self.is_sqlite


@lru_cache
def get_settings() -> Settings:
    return Settings()
