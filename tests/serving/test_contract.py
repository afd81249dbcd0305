"""The API keeps its contract (SPEC 7 and 8): every status it can answer is in the OpenAPI document with its
body and the key scheme; /docs needs nothing from outside; oversized chunked bodies are 413; unreadable
bodies and out-of-range dates are 422 with a field."""

from __future__ import annotations

import re

from tests.serving.conftest import ALL_KEY

ALL = {"X-API-Key": ALL_KEY}
EXPECTED = {
    ("/v1/assessments", "post"): {"401", "404", "413", "422", "503"},
    ("/v1/teams/{team_id}/worklist", "get"): {"401", "404", "413", "422", "503"},
    ("/v1/teams/{team_id}/outcomes", "post"): {"401", "404", "409", "413", "422", "503"},
    ("/v1/teams/{team_id}/outcomes", "get"): {"401", "404", "422", "503"},
    ("/v1/teams/{team_id}/indicators", "get"): {"401", "404", "422", "503"},
    ("/v1/indicators", "get"): {"401", "404", "422", "503"},
    ("/v1/model", "get"): {"401", "503"},
}


def test_openapi_documents_every_status_and_the_key_scheme(client):
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert any(s["type"] == "apiKey" and s["name"] == "X-API-Key" and s["in"] == "header" for s in schemes.values())
    for (path, method), statuses in EXPECTED.items():
        responses = document["paths"][path][method]["responses"]
        assert statuses <= set(responses), (path, method, set(responses))
        for status in statuses:
            assert "content" in responses[status], (path, status)
        assert document["paths"][path][method].get("security"), path


def test_docs_load_nothing_from_outside(client):
    page = client.get("/docs").text
    urls = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page) + re.findall(r"""url: ?['"]([^'"]+)['"]""", page)
    assert urls and all(url.startswith("/") for url in urls), urls
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_a_chunked_body_over_the_limit_is_413(client):
    def chunks():
        for _ in range(600):
            yield b"x" * 1000

    response = client.post("/v1/assessments", content=chunks(), headers={**ALL, "Content-Type": "application/json"})
    assert response.status_code == 413


def test_unreadable_bodies_and_far_dates_are_422_with_a_field(client):
    response = client.post(
        "/v1/assessments", content=b"\xff\xfe{not json", headers={**ALL, "Content-Type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["field"].startswith("body")
    for path in ("/v1/assessments?as_of=9999-12-31", "/v1/teams/T00001/worklist?as_of=9999-12-31"):
        method = client.post if "assessments" in path else client.get
        kwargs = (
            {"json": {"records": [{"resident_id": "a", "team_id": "T00001", "sex": "F", "age_years": 40}]}}
            if method == client.post
            else {}
        )
        answer = method(path, headers=ALL, **kwargs)
        assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "query.as_of", answer.text
