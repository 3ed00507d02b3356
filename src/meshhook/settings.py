"""One typed settings object, read from ``MESHHOOK_*`` environment variables.

Built by whoever starts the program (the CLI, the app factory's caller, a test),
never at import time, so tests can run many differently configured apps side
by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DEFAULT_HOME = Path("~/.meshhook")


class Settings(BaseSettings):
    """Every knob MeshHook has. Each field maps to ``MESHHOOK_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="MESHHOOK_", extra="ignore")

    home: Path = Field(default=_DEFAULT_HOME, description="Data directory.")
    database_url: str | None = Field(
        default=None,
        description="sqlite:///path or postgresql+psycopg://...; default: SQLite in the home.",
    )
    migration_database_url: str | None = Field(
        default=None,
        description="Optional separate URL (the table owner) used only for migrations.",
    )
    db_app_role: str = Field(
        default="meshhook_app",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL role every request transaction runs as (SET LOCAL ROLE).",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_bundle_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        description="Body limit for bundle imports (POST .../import), which may be large.",
    )
    session_days: int = Field(default=7, ge=1, le=365)
    secure_cookies: bool = Field(
        default=False, description="Mark session cookies Secure (set behind HTTPS)."
    )
    # Accounts and sign-in (docs/security.md, "Accounts and login").
    login_free_attempts: int = Field(
        default=5, ge=1, description="Failed sign-ins per account before the back-off starts."
    )
    login_address_free_attempts: int = Field(
        default=30,
        ge=1,
        description="Sign-in attempts per client address before its back-off starts.",
    )
    login_max_delay_seconds: int = Field(
        default=900, ge=1, description="Longest back-off after repeated failed sign-ins."
    )
    login_forget_seconds: int = Field(
        default=3600, ge=60, description="Failure counters idle this long start from zero."
    )
    # Webhooks (docs/webhooks.md, "Floods of bad requests").
    hook_refusals_per_second: float = Field(
        default=10.0,
        ge=0,
        description="Refused webhook requests a client address may make per second before"
        " its requests are refused unread (429); 0 turns this off.",
    )
    hook_refusal_burst: int = Field(
        default=100, ge=1, description="Refused webhook requests a client address may make at once."
    )
    password_hash_concurrency: int = Field(
        default=2, ge=1, description="Password hashes (64 MiB each) computed at once."
    )
    password_hash_queue: int = Field(
        default=8, ge=0, description="Sign-ins that may wait for a hashing slot; more get 503."
    )
    password_hash_wait_seconds: float = Field(
        default=10.0, gt=0, description="Longest wait for a hashing slot before 503."
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="Key-encryption key (base64, 32 bytes); default: a key file in the home.",
    )
    previous_master_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated older keys, readable until a rotation completes.",
    )
    bootstrap: bool = Field(
        default=True, description="On first start create an admin, a project and a token."
    )
    public_url: str | None = Field(
        default=None,
        description=(
            "The URL people reach the server at (default http://<host>:<port>); an https://"
            " URL makes the session cookies Secure."
        ),
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, GET /metrics needs Authorization: Bearer <this token>.",
    )

    # The run engine.
    workers: int = Field(
        default=8,
        ge=0,
        le=256,
        description="Runs driven at once by the workers inside `serve` (0: none in-process).",
    )
    lease_seconds: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description="How long a run claimed by a worker that died waits before another takes it.",
    )
    drain_seconds: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="On SIGTERM, how long steps in flight may take to finish before exit.",
    )
    http_max_response_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest http_call response body a step keeps; a longer one fails the attempt.",
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="PostgreSQL connections each process keeps open (SQLite: unused).",
    )
    db_max_overflow: int = Field(
        default=20,
        ge=0,
        le=1000,
        description="Extra PostgreSQL connections a process may open under bursts.",
    )
    http_allow_private: bool = Field(
        default=False,
        description="Let http_call reach loopback and private addresses (never link-local).",
    )

    # Retention (docs/operations.md#retention).
    retention_interval_seconds: float = Field(
        default=3600.0,
        ge=0,
        le=7 * 86400,
        description="How often each worker applies the retention policies (0: never).",
    )
    retention_batch_runs: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Most runs deleted or scrubbed in one retention transaction.",
    )
    retention_batch_ms: float | None = Field(
        default=None,
        gt=0,
        le=10_000,
        description="Target length of one retention transaction: batches shrink or grow to"
        " it, and the job rests as long between batches. Default: 2 ms on SQLite (a write"
        " transaction holds the one write lock), 50 ms on PostgreSQL (it locks its rows only).",
    )
    retention_partitions_ahead: int = Field(
        default=2,
        ge=1,
        le=36,
        description="PostgreSQL: monthly run_events partitions created ahead of this month.",
    )

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("database_url", "migration_database_url", mode="after")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite://", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # One driver for PostgreSQL: psycopg 3. Accept the common spelling.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.home / 'meshhook.db'}"
        return self

    @field_validator("public_url", mode="after")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1]) == 0:
            raise ValueError(
                "must be an http:// or https:// URL, like https://meshhook.example.com"
            )
        return value.rstrip("/")

    @property
    def base_url(self) -> str:
        """``public_url``, or the address ``serve`` listens on (``--host``/``--port``
        may change it after the settings are read, hence computed here)."""
        if self.public_url is not None:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def cookies_secure(self) -> bool:
        """Session cookies carry ``Secure`` when served over HTTPS (or when told to)."""
        return self.secure_cookies or self.base_url.startswith("https://")

    @property
    def db_url(self) -> str:
        assert self.database_url is not None  # filled by the validator above
        return self.database_url

    @property
    def is_postgres(self) -> bool:
        return self.db_url.startswith("postgresql")

    def secret_value(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else None

    @property
    def credentials_file(self) -> Path:
        return self.home / "initial-credentials"
