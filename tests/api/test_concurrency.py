"""Concurrent overlapping ingests on a real server, SQLite and PostgreSQL: exactly the union.

The probe of issue 14: 20 clients post 1,000-row batches whose incident ids overlap (every id
in 10 batches, each batch in its own shuffled order); then 50 clients at once. Every request
must be answered 200 (no 500, no dropped connection), the union stored once, the ``inserted``
counts add up to the union, and each batch has its audit entry.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.db import make_engine, migrate, session_factory, session_scope
from api.keys import create_key
from tests.api.server import Server, running, server_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """A real server on the session's database (each backend) and an analyst token."""
    engine = make_engine(db_url)
    migrate(engine)
    with session_scope(session_factory(engine)) as session:
        token = create_key(session, name="ingest-load", role="analyst")[1]
    engine.dispose()
    folder = tmp_path_factory.mktemp("concurrency")
    env = server_env(db_url, key_requests_per_minute="100000", key_cache_s="60")
    with running(env, folder / "server.log") as server:
        yield server, token


def _batch(prefix: str, ids: list[int], seed: int) -> dict[str, Any]:
    order = list(ids)
    random.Random(seed).shuffle(order)
    return {
        "district": "demo",
        "incidents": [
            {
                "external_id": f"{prefix}-{i:05d}",
                "time": f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                "category": "theft",
                "lon": 24.93 + 0.00001 * (i % 1000),
                "lat": 60.165 + 0.00001 * (i % 700),
            }
            for i in order
        ],
    }


def _post_all(server: Server, token: str, batches: list[dict[str, Any]], clients: int) -> list[Any]:
    def send(batch: dict[str, Any]) -> tuple[int, Any]:
        with httpx.Client(base_url=server.base, timeout=600) as client:
            try:
                r = client.post("/incidents", json=batch, headers={"X-API-Key": token})
            except httpx.HTTPError as exc:  # a lost connection
                return 0, repr(exc)
            ok = r.headers.get("content-type", "").startswith("application/json")
            return r.status_code, r.json() if ok else r.text[:200]

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(send, batches))


def _stored(url: str, prefix: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT count(*), count(DISTINCT external_id) FROM incidents"
                    " WHERE district = 'demo' AND external_id LIKE :p"
                ),
                {"p": f"{prefix}-%"},
            ).one()
            audits = conn.execute(
                sa.text(
                    "SELECT count(*) FROM audit_log WHERE action = 'incidents.ingest'"
                    " AND status = 200 AND key_name = 'ingest-load'"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return int(rows[0]), int(rows[1]), int(audits)


def test_overlapping_batches_from_20_clients_store_the_union(
    served: tuple[Server, str], db_url: str
) -> None:
    server, token = served
    union = 10_000
    batches = [
        _batch("ov", [(k * 100 + j) % union for j in range(1000)], seed=k) for k in range(100)
    ]
    _, _, audits_before = _stored(db_url, "ov")
    answers = _post_all(server, token, batches, clients=20)
    assert [status for status, _ in answers] == [200] * 100, [a for a in answers if a[0] != 200][:3]
    assert sum(body["inserted"] for _, body in answers) == union
    assert sum(body["inserted"] + body["updated"] for _, body in answers) == 100 * 1000
    rows, distinct, audits = _stored(db_url, "ov")
    assert rows == distinct == union
    assert audits - audits_before == 100


def test_parallel_overlapping_ingests_store_the_union(
    served: tuple[Server, str], db_url: str
) -> None:
    server, token = served
    union = 2_000
    batches = [_batch("par", [(k * 40 + j) % union for j in range(200)], seed=k) for k in range(50)]
    _, _, audits_before = _stored(db_url, "par")
    answers = _post_all(server, token, batches, clients=50)
    assert all(status == 200 for status, _ in answers), [a for a in answers if a[0] != 200][:3]
    assert sum(body["inserted"] for _, body in answers) == union
    rows, distinct, audits = _stored(db_url, "par")
    assert rows == distinct == union
    assert audits - audits_before == 50
