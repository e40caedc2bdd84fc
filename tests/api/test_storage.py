"""Schema migrations and SQLite settings on both backends."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from api.db import alembic_config, make_engine, migrate

TABLES = {"api_keys", "audit_log", "incidents", "resource_sets", "jobs", "plans"}


def test_migrations_up_down_up(own_db_url: str) -> None:
    engine = make_engine(own_db_url)
    try:
        migrate(engine)
        migrate(engine)  # idempotent
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
        cols = {c["name"] for c in sa.inspect(engine).get_columns("incidents")}
        assert {"external_id", "district", "time", "category", "lon", "lat", "grid_id"} <= cols
        uniques = sa.inspect(engine).get_unique_constraints("incidents")
        assert any(set(u["column_names"]) == {"district", "external_id"} for u in uniques)
        command.downgrade(alembic_config(engine), "base")
        assert not TABLES & set(sa.inspect(engine).get_table_names())
        migrate(engine)
        assert set(sa.inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_sqlite_uses_wal(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/nested/dir/w.sqlite")
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_models_match_migrations(own_db_url: str) -> None:
    """The tables the migrations build are the tables the models declare (no drift)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from api.models import Base

    engine = make_engine(own_db_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_0002_drops_pickled_plans_and_stores_json(own_db_url: str) -> None:
    """Rows of the binary (pickled) layout are deleted explicitly; plans become JSON."""
    engine = make_engine(own_db_url)
    try:
        migrate(engine, "0001")
        with engine.begin() as conn:
            for pid, parent in (("p1", None), ("p2", "p1")):
                conn.execute(
                    sa.text(
                        "INSERT INTO plans (id, job_id, parent_id, district, date, engine, seed,"
                        " summary, data, created_at, is_replan) VALUES (:id, NULL, :parent, 'd',"
                        " '2026-12-01', 'ortools', 0, '{}', :data, '2026-11-29 07:00:00+00',"
                        " :rp)"
                    ),
                    {
                        "id": pid,
                        "parent": parent,
                        "data": b"\x80\x05not-a-plan.",
                        "rp": parent is not None,
                    },
                )
        migrate(engine)
        cols = {c["name"]: c for c in sa.inspect(engine).get_columns("plans")}
        assert "data" not in cols and "plan_json" in cols
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM plans")).scalar() == 0
    finally:
        command.downgrade(alembic_config(engine), "base")
        engine.dispose()
