"""The HTTP API (SPEC section 7): assessments, work lists, model info, operations, security, bad input."""

from __future__ import annotations

import hashlib

import pytest

from tests.factories import make_resident
from tests.serving.conftest import ALL_KEY, TEAM_KEY

ALL = {"X-API-Key": ALL_KEY}
TEAM = {"X-API-Key": TEAM_KEY}


def _record(**overrides):
    return make_resident(**{"team_id": "T00001", **overrides})


def test_assessment_of_one_resident(client):
    response = client.post(
        "/v1/assessments?explain=true&lang=en",
        json={
            "records": [
                _record(
                    age_years=58,
                    sex="M",
                    waist_cm=96,
                    sbp_mmhg=136,
                    dbp_mmhg=86,
                    fpg_mmol_l=None,
                    hba1c_pct=None,
                    glucose_date=None,
                )
            ]
        },
        headers=ALL,
    )
    assert response.status_code == 200
    body = response.json()
    item = body["assessments"][0]
    assert item["model_version"] == body["model_version"]
    assert item["hypertension"]["tier"] == "high_risk" and item["hypertension"]["tier_source"] == "measurement"
    dm = item["diabetes"]
    assert (dm["tier"], dm["tier_source"]) == ("high_risk", "measurement")  # CDRS 15 + 10 + ... >= 25
    assert abs(dm["p_healthy"] + dm["p_high_risk"] + dm["p_chronic"] - 1) < 1e-5
    assert item["cdrs"]["points"]["waist"] == 10
    assert any(
        r.startswith("Diabetes and hypertension risk factor: ")
        and "waist 96 cm (" in r
        and "central obesity for men (90 cm or over)" in r
        for r in item["reasons"]
    )
    assert item["hypertension"]["guideline_high_risk"] and item["control_profile"] == "bphs2017"
    assert item["actions"] and item["actions"][0]["action"] == item["action"]
    assert {"dm_age", "dm_overweight"} <= {f["code"] for f in dm["findings"]}


def test_untested_low_risk_resident_is_tiered_by_the_model(client):
    body = client.post(
        "/v1/assessments",
        json={"records": [_record(age_years=25, fpg_mmol_l=None, hba1c_pct=None, glucose_date=None)]},
        headers=ALL,
    ).json()
    assert body["assessments"][0]["diabetes"]["tier_source"] == "model"


def test_assessments_keep_order_and_chinese_reasons(client):
    records = [_record(resident_id=f"r{i}", age_years=30 + i) for i in range(20)]
    body = client.post("/v1/assessments?explain=true", json={"records": records}, headers=ALL).json()
    assert [a["resident_id"] for a in body["assessments"]] == [f"r{i}" for i in range(20)]
    assert any("年龄" in " ".join(a["reasons"]) for a in body["assessments"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"records": [_record(age_years=150)]}, "records.0.age_years"),
        ({"records": [_record(sex="X")]}, "records.0.sex"),
        ({"records": [_record(sbp_mmhg=80, dbp_mmhg=90)]}, "records.0"),
        ({"records": [_record(exam_date="2026-13-40")]}, "records.0.exam_date"),
        ({"records": [_record(physically_active="maybe")]}, "records.0.physically_active"),
        ({"records": [{"team_id": "T00001", "sex": "F", "age_years": 40}]}, "records.0.resident_id"),
        ({"records": []}, "records"),
        ({"records": [_record()] * 2}, "records"),
        (
            {
                "records": [
                    {"resident_id": f"r{i}", "team_id": "T00001", "sex": "F", "age_years": 40} for i in range(1001)
                ]
            },
            "records",
        ),
        ({"rows": []}, "records"),
        (  # a next follow-up agreed before the follow-up that agreed it (SPEC 14.4)
            {
                "records": [
                    _record(
                        events=[
                            {
                                "event_id": "e1",
                                "event_date": "2026-06-20",
                                "kind": "followup",
                                "disease": "hypertension",
                                "next_followup_date": "2026-06-19",
                            }
                        ]
                    )
                ]
            },
            "records.0.events.0",
        ),
    ],
)
def test_bad_input_is_422_with_the_field_path(client, body, field):
    response = client.post("/v1/assessments", json=body, headers=ALL)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["detail"]]


def test_malformed_json_and_nan_are_422(client):
    response = client.post(
        "/v1/assessments", content=b'{"records": [', headers={**ALL, "content-type": "application/json"}
    )
    assert response.status_code == 422
    nan = b'{"records": [{"resident_id": "a", "team_id": "T00001", "sex": "F", "age_years": NaN}]}'
    response = client.post("/v1/assessments", content=nan, headers={**ALL, "content-type": "application/json"})
    assert response.status_code == 422


def test_body_size_is_limited(client):
    big = b'{"records": [' + b" " * 500_000 + b"]}"
    response = client.post("/v1/assessments", content=big, headers={**ALL, "content-type": "application/json"})
    assert response.status_code == 413


def test_keys_are_required_and_bound_to_teams(client):
    assert client.post("/v1/assessments", json={"records": [_record()]}).status_code == 401
    assert (
        client.post("/v1/assessments", json={"records": [_record()]}, headers={"X-API-Key": "wrong"}).status_code == 401
    )
    assert client.get("/v1/model").status_code == 401
    assert (
        client.post("/v1/assessments", json={"records": [_record(team_id="T00002")]}, headers=TEAM).status_code == 404
    )
    assert client.get("/v1/teams/T00002/worklist", headers=TEAM).status_code == 404
    assert client.get("/v1/teams/T00001/worklist", headers=TEAM).status_code == 200
    assert client.get("/v1/teams/NO-SUCH-TEAM/worklist", headers=ALL).status_code == 404


def test_worklist_from_the_store(client):
    response = client.get("/v1/teams/T00001/worklist?capacity=5&lang=en&as_of=2026-07-01", headers=ALL)
    assert response.status_code == 200
    body = response.json()
    assert body["team_id"] == "T00001" and body["capacity"] == 5 and body["as_of"] == "2026-07-01"
    assert body["counts"]["screen"]["listed"] <= body["counts"]["screen"]["due"]
    assert (
        body["counts"]["cut"]["4"]["first_left_off"]["resident_id"] == body["cuts"][-1]["first_left_off"]["resident_id"]
    )
    assert sum(1 for e in body["entries"] if e["band"] == 4) <= 5
    assert all(e["actions"] and "diabetes" in e and "tier_label" in e["diabetes"] for e in body["entries"])
    assert [e["rank"] for e in body["entries"]] == list(range(1, len(body["entries"]) + 1))
    assert all(entry["reasons"] for entry in body["entries"])
    assert client.get("/v1/teams/T00001/worklist?capacity=0", headers=ALL).status_code == 422
    assert client.get("/v1/teams/T00001/worklist?lang=fr", headers=ALL).status_code == 422


def test_model_info_health_readiness_metrics_and_docs(client):
    info = client.get("/v1/model", headers=ALL).json()
    assert info["schema_version"] == 1 and info["metrics"]["diabetes_auroc"] > 0.7
    assert info["training_data"]["residents"] > 0
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"model": True, "store": True}
    metrics = client.get("/metrics").text
    assert "riskmodel_http_requests_total" in metrics and "riskmodel_model_info" in metrics
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert schema["components"]["schemas"]["ResidentRecord"]["properties"]["age_years"]["maximum"] == 120


def test_keys_are_configured_as_digests_only(served):
    settings, _, _ = served
    assert ALL_KEY not in str(settings.serving.api_keys)
    assert hashlib.sha256(ALL_KEY.encode()).hexdigest() in settings.serving.api_keys


def test_grids_of_one_team_for_the_county_drill_down(client):
    mine = client.get("/v1/indicators?level=grid&team=T00001", headers=TEAM)
    assert mine.status_code == 200
    grids = [unit["unit_id"] for unit in mine.json()["units"]]
    assert grids and all(grid.startswith("T00001") for grid in grids)
    assert client.get("/v1/indicators?level=grid&team=T00002", headers=TEAM).status_code == 404  # not theirs
    assert client.get("/v1/indicators?level=grid&team=T00002", headers=ALL).status_code == 200
    assert client.get("/v1/indicators?level=team&team=T00001", headers=TEAM).json()["units"][0]["unit_id"] == "T00001"
