"""Service settings from the environment (prefix ``PATROL_``) through pydantic-settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from optimizer.district import default_data_dir


def default_database_url() -> str:
    """Return the default database: an SQLite file ``<data>/service/patrol.sqlite``."""
    folder = default_data_dir().parent / "service"
    return f"sqlite:///{folder / 'patrol.sqlite'}"


class Settings(BaseSettings):
    """Settings of the HTTP service; every field can be set as ``PATROL_<NAME>``.

    Attributes
    ----------
    database_url
        SQLAlchemy URL: ``sqlite:///path.sqlite`` (default, WAL) or
        ``postgresql+psycopg://user:pass@host:port/db``.
    host, port
        Where ``patrol serve`` listens (loopback by default).
    max_request_bytes
        Requests with a larger body are refused with 413.
    cors_origins
        Origins allowed by CORS; empty (closed) by default.
    data_dir
        Folder of prepared districts; default ``optimizer.district.default_data_dir()``.
    workers
        Threads running planning and import jobs.
    max_time_limit_s
        Largest solver time limit a client may ask for, per grid x window problem.
    key_cache_s
        Seconds an API key lookup is cached in the process (revocation takes effect after it).
    """

    model_config = SettingsConfigDict(env_prefix="PATROL_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_request_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    cors_origins: list[str] = Field(default_factory=list)
    data_dir: Path | None = None
    workers: int = Field(default=1, ge=1, le=16)
    max_time_limit_s: float = Field(default=60.0, gt=0)
    key_cache_s: float = Field(default=5.0, ge=0)
