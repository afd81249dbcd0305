"""Schema-driven fuzzing against the OpenAPI document: no generated input makes the API answer 5xx.

Cases come from schemathesis's Hypothesis strategies for each operation (drawn inside a plain Hypothesis
test: schemathesis's own pytest plugin does not run under pytest 9)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from tests.serving.conftest import ALL_KEY

OPERATIONS = [("/v1/assessments", "POST"), ("/v1/teams/{team_id}/worklist", "GET"), ("/v1/model", "GET")]


@pytest.fixture(scope="module")
def api_schema(app, client):  # the client has started the app's lifespan (model and store)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_no_generated_input_makes_a_server_error(api_schema, path, method):
    operation = api_schema[path][method]
    strategy = operation.as_strategy()

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case = data.draw(strategy)
        response = case.call(headers={"X-API-Key": ALL_KEY})
        assert response.status_code < 500, (case.path, case.body, response.text[:300])
        case.validate_response(response, checks=[not_a_server_error])

    run()
