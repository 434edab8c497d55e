"""Schemathesis over the whole OpenAPI: every operation, valid and invalid input, anonymous and with an admin
token: no answer is a server error. Bounded and reproducible: a fixed number of derandomized examples per
operation (``ONEWINDOW_FUZZ_EXAMPLES``, default 4), on the test database of the selected backend."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("ONEWINDOW_FUZZ_EXAMPLES", "4"))
SHARDS = 4  # the operations split into a few tests, each well inside the per-test timeout on a busy machine
STATUSES: dict[int, int] = {}  # answers seen, by status (printed with -s: evidence the fuzzing reached the routes)


def _server_errors(app: FastAPI, headers: dict[str, str], shard: int) -> list[str]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=lambda op: op.label)
    for operation in operations[shard::SHARDS]:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            strategy: st.SearchStrategy[schemathesis.Case] = operation.as_strategy(generation_mode=mode)

            @given(case=strategy)
            @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def probe(case: schemathesis.Case) -> None:
                try:
                    response = case.call(headers=headers)
                except Exception as exc:  # an exception raised through the test client is a server error too
                    failures.append(f"{case.operation.label}: {exc.__class__.__name__}: {exc}"[:400])
                    return
                STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1
                if response.status_code >= 500:
                    failures.append(f"{case.operation.label}: {response.status_code} "
                                    f"{case.path_parameters} {case.query} {str(case.body)[:120]}")

            try:
                probe()
            except Exception as exc:  # schemathesis could not generate a case for this operation
                if "Unsatisfiable" not in exc.__class__.__name__:
                    raise
    print(f"fuzz statuses: {dict(sorted(STATUSES.items()))}")
    return failures


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_operation_answers_a_server_error_to_anonymous_callers(app: FastAPI, shard: int) -> None:
    failures = _server_errors(app, {}, shard)
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("shard", range(SHARDS))
@pytest.mark.usefixtures("client")
def test_no_operation_answers_a_server_error_to_an_admin(app: FastAPI, token_for: Callable[[str], dict[str, str]],
                                                         shard: int) -> None:
    failures = _server_errors(app, token_for("admin"), shard)
    assert failures == [], "\n".join(failures)
