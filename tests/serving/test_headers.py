"""Security headers and the separate operations address (SPEC 16 "Headers")."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.headers import operations_app
from tests.serving.conftest import ALL_KEY

ALL = {"X-API-Key": ALL_KEY}
CSP = "default-src 'self'; frame-ancestors 'none'"


def _common(response) -> None:  # type: ignore[no-untyped-def]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/ui/", "/ui/app.js", "/ui/app.css", "/ui/no-such-file.js"])
def test_the_dashboard_sends_the_csp_and_is_not_cached_as_api(client, path):
    response = client.get(path)
    assert response.status_code == (404 if "no-such" in path else 200)
    _common(response)
    assert response.headers["content-security-policy"] == CSP
    assert "no-store" not in response.headers.get("cache-control", "")


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("get", "/v1/model", ALL, 200),
        ("get", "/v1/teams/T00001/worklist?capacity=3", ALL, 200),
        ("get", "/v1/model", {}, 401),
        ("get", "/v1/model", {"X-API-Key": "wrong"}, 401),
        ("get", "/v1/teams/NO-SUCH-TEAM/worklist", ALL, 404),
        ("get", "/v1/no-such-route", ALL, 404),
        ("get", "/v1/teams/T00001/worklist?lang=fr", ALL, 422),
        ("post", "/v1/assessments", ALL, 422),
    ],
)
def test_every_api_answer_sends_the_headers_and_no_store(client, method, path, headers, status):
    response = getattr(client, method)(path, headers=headers)
    assert response.status_code == status
    _common(response)
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["cache-control"] == "no-store"


def test_an_oversized_body_is_refused_with_the_headers_too(client):
    response = client.post("/v1/assessments", content=b"x" * 500_000, headers={**ALL, "Content-Type": "text/plain"})
    assert response.status_code == 413
    _common(response)
    assert response.headers["cache-control"] == "no-store"


def test_the_swagger_page_keeps_nosniff_without_a_csp_that_would_block_its_script(client):
    response = client.get("/docs")
    assert response.status_code == 200 and "<script>" in response.text
    _common(response)
    assert "content-security-policy" not in response.headers


def test_the_dashboard_page_has_no_inline_script_or_style(client):
    page = client.get("/ui/").text.lower()
    assert "<style" not in page and " style=" not in page
    assert page.count("<script") == page.count("<script src=")
    script = client.get("/ui/app.js").text
    assert "style: `" not in script and "innerHTML" not in script


def test_a_metrics_port_serves_operations_alone_and_takes_metrics_off_the_main_port(served):
    settings, model_dir, store_url = served
    separate = settings.model_copy(update={"serving": settings.serving.model_copy(update={"metrics_port": 9101})})
    main = create_app(separate, model_uri=model_dir, store_url=store_url, poll=False)
    with TestClient(main) as api, TestClient(operations_app(main)) as operations:
        assert api.get("/metrics").status_code == 404
        assert api.get("/readyz").status_code == 200 and api.get("/v1/model", headers=ALL).status_code == 200
        for path in ("/metrics", "/readyz", "/healthz"):
            answer = operations.get(path)
            assert answer.status_code == 200, path
            assert answer.headers["x-content-type-options"] == "nosniff"
        assert "riskmodel_http_requests_total" in operations.get("/metrics").text
        assert operations.get("/readyz").json()["checks"]["model"] is True
        for path in ("/v1/model", "/ui/", "/docs", "/openapi.json"):
            assert operations.get(path, headers=ALL).status_code == 404, path


def test_without_a_metrics_port_the_main_port_serves_metrics(client):
    assert client.get("/metrics").status_code == 200
