"""The bad-input catalogue (``docs/bad-input.md``), row by row, on SQLite and PostgreSQL.

Each row of the catalogue's request table is sent as written; the answer must have the
status and name the field of the row, name no server folder, and nothing may be stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from api.keys import hash_token
from tests.api.conftest import Api, make_api

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "bad-input.md"


@dataclass(frozen=True)
class Row:
    """One catalogued bad request and the answer it must get."""

    what: str
    role: str
    method: str
    path: str
    body: str
    status: int
    field: str


def _cell(text: str) -> str:
    text = text.strip()
    return text[1:-1] if text.startswith("`") and text.endswith("`") else text


def catalogue_rows() -> list[Row]:
    """Return the rows of the catalogue's request table (the one with a ``method`` column)."""
    rows: list[Row] = []
    header: list[str] | None = None
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip()[1:-1].split("|")]
        if header is None:
            header = [c.strip("| ") for c in cells]
            continue
        if set(line) <= {"|", "-", " "} or "method" not in header:
            continue
        values = dict(zip(header, (_cell(c) for c in cells), strict=True))
        rows.append(
            Row(
                what=values["bad input"],
                role=values["role"],
                method=values["method"],
                path=values["path"],
                body=values["body"],
                status=int(values["status"]),
                field=values["field"],
            )
        )
    return rows


ROWS = catalogue_rows()


def test_catalogue_has_rows() -> None:
    assert len(ROWS) >= 40, "the request table of docs/bad-input.md was not found"
    assert len({r.what for r in ROWS}) == len(ROWS), "every row names its own bad input"


@pytest.fixture(scope="module")
def fresh(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """An app on an empty database of the session's backend: 4 keys, one of them admin."""
    folder = tmp_path_factory.mktemp("catalogue")
    url = db_url
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{folder / 'catalogue.sqlite'}"
    else:
        from tests.api.conftest import _postgres_database

        databases = _postgres_database(db_url)
        url = next(databases)
    made = make_api(url, import_dir=folder / "imports", data_dir=None)
    (folder / "imports").mkdir()
    (folder / "imports" / "passwd").write_text("not osm")
    with made.client:
        yield made
    if not db_url.startswith("sqlite"):
        made.app.state.services.close()
        next(databases, None)


def _admin_id(api: Api) -> int:
    with api.app.state.services.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT id FROM api_keys WHERE key_hash = :h"),
                {"h": hash_token(api.tokens["admin"])},
            ).scalar_one()
        )


SERVER_FOLDERS = [str(ROOT), "/srv/", "/tmp/", "/etc/", "data/grids", "imports"]


@pytest.mark.parametrize("row", ROWS, ids=[r.what for r in ROWS])
def test_bad_input_gets_its_catalogued_answer(fresh: Api, row: Row) -> None:
    path = row.path.replace("ADMIN", str(_admin_id(fresh)))
    headers = fresh.headers(row.role)
    if row.body:
        headers = {**headers, "content-type": "application/json"}
    r = fresh.client.request(row.method, path, content=row.body.encode() or None, headers=headers)
    assert r.status_code == row.status, r.text
    error = r.json()["error"]
    assert error["message"] and error["type"]
    if row.field:
        assert row.field in str(error.get("field")), error
    for folder in SERVER_FOLDERS:
        if folder not in row.body and folder not in row.path:
            assert folder not in r.text, (folder, r.text)


def test_refused_requests_stored_nothing(fresh: Api) -> None:
    """After every catalogued request: no incident, job or plan, every JSON column valid."""
    for row in ROWS:  # also when this test runs alone
        fresh.client.request(
            row.method,
            row.path.replace("ADMIN", "0"),
            content=row.body.encode() or None,
            headers={**fresh.headers(row.role), "content-type": "application/json"},
        )
    engine = fresh.app.state.services.engine
    with engine.connect() as conn:
        for table in ("incidents", "jobs", "plans", "resource_sets"):
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
        revoked = conn.execute(
            sa.text("SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL")
        )
        assert revoked.scalar_one() == 0
        if engine.dialect.name == "sqlite":
            bad = conn.execute(
                sa.text(
                    "SELECT count(*) FROM audit_log WHERE NOT json_valid(inputs)"
                    " OR NOT json_valid(result)"
                )
            ).scalar_one()
            assert bad == 0
        rows = conn.execute(sa.text("SELECT inputs, result FROM audit_log")).all()
    text = " ".join(str(r) for r in rows)
    assert not re.search(r"\bNaN\b|Infinity", text)


def test_every_named_test_exists() -> None:
    """The catalogue's other tables name tests; each of them exists."""
    text = CATALOGUE.read_text(encoding="utf-8")
    named = set(re.findall(r"`(tests/api/[a-z_]+\.py)::([a-z_0-9]+)`", text))
    assert len(named) >= 10
    for path, name in named:
        assert f"def {name}(" in (ROOT / path).read_text(encoding="utf-8"), (path, name)
