"""Schemathesis over the app's own OpenAPI document: every operation, public and admin (with the
token), with data that fits the schema and data that breaks it; no 5xx, no stack trace."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from bot.config import Settings
from bot.web.app import create_app
from tests.web.test_hostile import TOKEN, hostile_app  # noqa: F401 - fixture

EXAMPLES = 12  # per operation and mode: about 300 generated requests per database
# The operations of the document, read at collection time (the app loads nothing until it starts).
# Event streams answer forever once open: their refusals are tested in tests/web/test_handoff_api.py.
OPERATIONS = [
    (method.upper(), path)
    for path, item in create_app(Settings(rate_limit_ip=0)).openapi()["paths"].items()
    for method, operation in item.items()
    if "text/event-stream" not in operation.get("responses", {}).get("200", {}).get("content", {})
]


def test_the_document_covers_every_public_and_admin_operation():
    paths = {path for _, path in OPERATIONS}
    assert {"/api/v1/chat", "/api/v1/feedback", "/api/v1/articles/{article_id}", "/readyz"} <= paths
    assert {
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/admin/missed/{missed_id}/resolve",
    } <= paths
    assert len(OPERATIONS) >= 14


@pytest.fixture(scope="module")
def api_schema(hostile_app):  # noqa: F811
    """The running app of tests/web/test_hostile.py (small KB, fresh database, admin token, limits and
    hot reload off) as a schemathesis schema."""
    return schemathesis.openapi.from_asgi("/openapi.json", hostile_app)


def no_stack_trace(ctx, response, case) -> None:
    """A response never shows a Python traceback or a source path."""
    text = response.text or ""
    if "Traceback (most recent call last)" in text or 'File "/' in text:
        raise AssertionError(f"stack trace in the response: {text[:200]}")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_operation_answers_5xx(api_schema, method, path, mode):
    operation = api_schema[path][method]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case) -> None:
        response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
        case.validate_response(response, checks=[not_a_server_error, no_stack_trace])

    try:
        fuzz()
    except Unsatisfiable:
        assert mode == GenerationMode.NEGATIVE
        pytest.skip("the schema allows every value of every parameter: nothing to make invalid")
