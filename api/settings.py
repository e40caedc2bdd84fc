"""Service settings from the environment (prefix ``PATROL_``) through pydantic-settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from optimizer.district import default_data_dir


def default_import_dir() -> Path:
    """Return the default folder of OSM files the import endpoint reads: ``<data>/imports``."""
    return default_data_dir().parent / "imports"


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
    import_dir
        The only folder ``POST /districts/import`` reads OSM files from (named by file name);
        default ``<data>/imports``.
    workers
        Threads running planning and import jobs.
    max_time_limit_s
        Largest solver time limit a client may ask for, per grid x window problem.
    key_cache_s
        Seconds an API key lookup is cached in the process (revocation takes effect after it).
    key_requests_per_minute
        Requests one API key may make in any minute (429 with ``Retry-After`` above it).
    auth_failures_per_minute
        Requests without a valid key one client address may make in any minute; above it
        every request from that address is refused with 429 until the minute has passed.
    key_active_jobs
        Jobs one API key may have queued or running at once (429 above it).
    tile_url
        Optional intranet tile server for the page's basemap (``https://tiles.local/{z}/{x}/{y}.png``);
        without it the page draws the district's own streets only.
    job_attempts
        Times a job is started at most: a job interrupted by a stop is resumed on the next
        start until it has been started this often, then failed with the reason.
    dask_scheduler
        Address of a Dask scheduler (``tcp://HOST:PORT``) on whose workers planning jobs
        solve their cell problems; unset: in the service's own pool of ``solve_workers``.
    solve_workers
        Processes of the service's own solve pool, started with the first plan and kept warm
        for the next ones (1: solve in the job's thread).
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
    import_dir: Path = Field(default_factory=default_import_dir)
    key_requests_per_minute: int = Field(default=600, ge=1)
    auth_failures_per_minute: int = Field(default=20, ge=1)
    key_active_jobs: int = Field(default=4, ge=1)
    job_attempts: int = Field(default=2, ge=1, le=10)
    tile_url: str | None = Field(default=None, pattern=r"^(https?://|/)[^\s]*\{z\}[^\s]*$")
    dask_scheduler: str | None = None
    solve_workers: int = Field(default=2, ge=1, le=64)
