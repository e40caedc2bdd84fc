"""Fuzzing: schemathesis against the app's own OpenAPI, authenticated, every operation.

Bounded in examples (``MAX_EXAMPLES`` per operation and mode, derandomized, no shrinking) on
each backend: no 5xx, every answer with a documented status, content type and headers, a body
matching its schema (positive data), and schema-invalid requests refused with 4xx (negative
data). Planning jobs the fuzzer starts are kept small (``max_time_limit_s``) and few
(``key_active_jobs``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (  # type: ignore[attr-defined]
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import Api, make_api

pytestmark = pytest.mark.slow  # every operation fuzzed: full run only, not the fast lane

MAX_EXAMPLES = int(os.environ.get("PATROL_FUZZ_EXAMPLES", "8"))
"""Examples per operation and mode; raise it (e.g. 200) for a deeper run by hand."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def fuzzed(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The app under fuzzing on the session's database, with small and few planning jobs."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    made = make_api(db_url, max_time_limit_s=0.5, key_active_jobs=2, import_dir=folder)
    with made.client:
        yield made


def _admin_auth(schema: Any, token: str) -> None:
    """Send the admin key with every case (schemathesis then leaves the header alone)."""

    @schema.auth()
    class AdminKey:
        def get(self, case: Any, context: Any) -> str:
            return token

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "X-API-Key": data}


def _fuzz_operation(schema: Any, operation: Any, mode: schemathesis.GenerationMode) -> None:
    strategy = operation.as_strategy(generation_mode=mode, auth_storage=schema.auth)

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=MAX_EXAMPLES <= 8,  # the suite's run is the same every time
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    run()


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
def test_every_operation_answers_as_documented(
    fuzzed: Api, mode: schemathesis.GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.app)
    _admin_auth(schema, fuzzed.tokens["admin"])
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            _fuzz_operation(schema, operation, mode)
        except Unsatisfiable:
            pass  # nothing about this operation can be made invalid (e.g. GET /health)
        except (Exception, BaseExceptionGroup) as exc:  # report every operation's failures
            failures.append(f"{operation.label}: {exc}"[:3000])
    assert operations >= 25
    assert not failures, "\n\n".join(failures)
