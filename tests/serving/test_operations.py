"""Operations and security over the API (SPEC 16): the audit trail, keys issued per person, the demo key,
request rates, the outcome date window, idempotency bound to the key and body, and void records."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import time_machine
from fastapi.testclient import TestClient

from riskmodel.batch import score_file
from riskmodel.config import RateLimits
from riskmodel.store.batches import ResultStore
from riskmodel.store.keys import DEMO_KEY
from serving.app import create_app
from tests.factories import make_resident

TEAM = "T00004"
DAY = dt.date(2026, 7, 1)
GENEROUS = RateLimits(per_key_per_minute=100_000, per_address_per_minute=100_000, auth_failures=10_000)


@pytest.fixture(scope="module", autouse=True)
def on_the_day():
    """The team works on the batch's day: outcomes are accepted within [today - 30 days, today]."""
    with time_machine.travel(dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC), tick=True):
        yield


@pytest.fixture(scope="module")
def scored(on_the_day, tmp_path_factory, model, population):
    folder = tmp_path_factory.mktemp("operations")
    source = folder / "team.parquet"
    population[population["team_id"] == TEAM].reset_index(drop=True).to_parquet(source)
    store_url = f"sqlite:///{folder / 'store.db'}"
    score_file(source, folder / "scored.parquet", model, config=model.config, as_of=DAY, store=ResultStore(store_url))
    return folder, str(model.save(folder / "model")), store_url


def _app(scored, config, *, limits=GENEROUS, api_keys=None, store_url=None):
    _, model_dir, url = scored
    serving = config.serving.model_copy(update={"limits": limits, "api_keys": api_keys or {}})
    settings = config.model_copy(update={"serving": serving})
    return create_app(settings, model_uri=model_dir, store_url=store_url or url, poll=False)


@pytest.fixture(scope="module")
def keys(scored):
    store = ResultStore(scored[2])
    return {
        "reader": store.keys.add("nurse Li", (TEAM,), ("read",)),
        "writer": store.keys.add("doctor Zhao", (TEAM,), ("read", "write")),
        "other": store.keys.add("doctor Qian", (TEAM,), ("read", "write")),
    }


@pytest.fixture(scope="module")
def client(scored, config, keys):
    with TestClient(_app(scored, config)) as test_client:
        yield test_client


def _h(key, **extra):
    return {"X-API-Key": key, **extra}


def _audit(scored, actor):
    return ResultStore(scored[2]).audit("Asia/Shanghai").since(DAY - dt.timedelta(days=1), actor=actor)


def test_a_read_and_a_write_by_two_keys_are_both_audited(client, scored, keys):
    listing = client.get(
        f"/v1/teams/{TEAM}/worklist?capacity=10", headers=_h(keys["reader"], **{"X-Request-ID": "r-1"})
    )
    assert listing.status_code == 200 and listing.headers["X-Request-ID"] == "r-1"
    entries = listing.json()["entries"]
    read = _audit(scored, "nurse Li")
    assert [(r["action"], r["teams"], r["residents"], r["request_id"]) for r in read] == [
        ("read", [TEAM], len(entries), "r-1")
    ]
    assert read[0]["route"] == "GET /v1/teams/{team_id}/worklist" and read[0]["client"] == "testclient"
    local = dt.datetime.fromisoformat(read[0]["at_local"])  # the deployment's zone (Asia/Shanghai)
    assert local.utcoffset() == dt.timedelta(hours=8)
    assert local.astimezone(dt.UTC).replace(tzinfo=None) == read[0]["at_utc"].replace(microsecond=0)
    written = client.post(
        f"/v1/teams/{TEAM}/outcomes",
        json={"resident_id": entries[0]["resident_id"], "outcome": "moved"},
        headers=_h(keys["writer"]),
    )
    assert written.status_code == 201, written.text
    write = _audit(scored, "doctor Zhao")
    assert [(r["action"], r["teams"], r["residents"]) for r in write] == [("write", [TEAM], 1)]
    assert write[0]["request_id"] == written.headers["X-Request-ID"] and "outcomes" in write[0]["route"]
    assert keys["writer"] not in str(write) and keys["reader"] not in str(read)  # labels, never keys


def test_assessments_indicators_and_the_outcome_log_are_audited_reads(client, scored, keys):
    body = {"records": [make_resident(resident_id=f"r-{i}", team_id=TEAM) for i in range(3)]}
    before = len(_audit(scored, "nurse Li"))
    assert client.post("/v1/assessments", json=body, headers=_h(keys["reader"])).status_code == 200
    assert client.get(f"/v1/teams/{TEAM}/indicators?months=1", headers=_h(keys["reader"])).status_code == 200
    assert client.get(f"/v1/teams/{TEAM}/outcomes", headers=_h(keys["reader"])).status_code == 200
    rows = _audit(scored, "nurse Li")[before:]
    assert [(r["route"].split(" ")[1], r["residents"]) for r in rows][:2] == [
        ("/v1/assessments", 3),
        ("/v1/teams/{team_id}/indicators", 0),
    ]
    assert rows[2]["route"] == "GET /v1/teams/{team_id}/outcomes" and all(r["action"] == "read" for r in rows)


def test_store_keys_have_scopes_and_can_be_revoked(client, scored, keys):
    refused = client.post(
        f"/v1/teams/{TEAM}/outcomes", json={"resident_id": "x", "outcome": "moved"}, headers=_h(keys["reader"])
    )
    assert refused.status_code == 403 and "write" in refused.json()["detail"]
    assert client.get("/v1/model", headers=_h("not-a-key")).status_code == 401
    store = ResultStore(scored[2])
    late = store.keys.add("locum Sun", (TEAM,), ("read",))
    assert client.get("/v1/model", headers=_h(late)).status_code == 200
    store.keys.revoke("locum Sun")
    assert client.get("/v1/model", headers=_h(late)).status_code == 401


def test_the_readme_demo_key_is_refused_outside_the_demo_store(scored, config, tmp_path):
    demo_digest = hashlib.sha256(DEMO_KEY.encode()).hexdigest()
    configured = {demo_digest: {"label": "demo nurse", "teams": ["*"]}}
    with TestClient(_app(scored, config, api_keys=configured)) as normal:  # what `serve` builds
        assert normal.get("/v1/model", headers=_h(DEMO_KEY)).status_code == 401
    demo_url = f"sqlite:///{tmp_path / 'demo.db'}"
    ResultStore(demo_url).keys.issue_demo_key()  # what `riskmodel demo` does to its own store
    with TestClient(_app(scored, config, store_url=demo_url)) as demo:
        assert demo.get("/v1/model", headers=_h(DEMO_KEY)).status_code == 200


def test_a_burst_over_the_key_rate_gets_429_with_retry_after(scored, config, keys):
    limits = RateLimits(per_key_per_minute=5, per_address_per_minute=1000, auth_failures=1000)
    with TestClient(_app(scored, config, limits=limits)) as burst:
        answers = [burst.get("/v1/model", headers=_h(keys["reader"])) for _ in range(7)]
        assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
        assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
        assert burst.get("/v1/model", headers=_h(keys["writer"])).status_code == 200  # another key: its own rate


def test_a_burst_over_the_address_rate_gets_429(scored, config, keys):
    limits = RateLimits(per_key_per_minute=1000, per_address_per_minute=4, auth_failures=1000)
    with TestClient(_app(scored, config, limits=limits)) as burst:
        codes = [burst.get("/v1/model", headers=_h(keys[k])).status_code for k in ("reader", "writer") * 3]
        assert codes == [200] * 4 + [429] * 2


def test_wrong_keys_are_counted_on_metrics_and_slowed(scored, config, keys):
    limits = RateLimits(per_key_per_minute=10_000, per_address_per_minute=10_000, auth_failures=20)
    with TestClient(_app(scored, config, limits=limits)) as attacked:
        codes = [attacked.get("/v1/model", headers=_h(f"guess-{i}")).status_code for i in range(200)]
        assert codes == [401] * 20 + [429] * 180
        slowed = attacked.get("/v1/model", headers=_h(keys["reader"]))
        assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1
        metrics = attacked.get("/metrics").text
    assert re.search(r"^riskmodel_auth_failures_total 20\.0$", metrics, re.M)
    assert re.search(r'^riskmodel_throttled_total\{reason="auth_failures"\} 181\.0$', metrics, re.M)


def _residents(client, key, n):
    listing = client.get(f"/v1/teams/{TEAM}/worklist?capacity=1000", headers=_h(key)).json()
    return [e["resident_id"] for e in listing["entries"]][-n:]


def test_outcome_dates_only_within_the_last_30_days(client, keys):
    first, second = _residents(client, keys["writer"], 2)
    for day in (DAY - dt.timedelta(days=31), DAY + dt.timedelta(days=1)):
        refused = client.post(
            f"/v1/teams/{TEAM}/outcomes",
            json={"resident_id": first, "outcome": "moved", "recorded_on": str(day)},
            headers=_h(keys["writer"]),
        )
        assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "recorded_on", refused.text
    for resident, day in ((first, DAY - dt.timedelta(days=30)), (second, DAY)):
        accepted = client.post(
            f"/v1/teams/{TEAM}/outcomes",
            json={"resident_id": resident, "outcome": "moved", "recorded_on": str(day)},
            headers=_h(keys["writer"]),
        )
        assert accepted.status_code == 201, accepted.text


def test_an_idempotency_key_is_scoped_to_the_api_key_and_bound_to_the_body(client, keys):
    first, second = _residents(client, keys["writer"], 2)
    url = f"/v1/teams/{TEAM}/outcomes"
    once = client.post(
        url, json={"resident_id": first, "outcome": "moved"}, headers=_h(keys["writer"], **{"Idempotency-Key": "k-1"})
    )
    again = client.post(
        url, json={"resident_id": first, "outcome": "moved"}, headers=_h(keys["writer"], **{"Idempotency-Key": "k-1"})
    )
    assert once.status_code == again.status_code == 201
    assert again.json()["outcome_id"] == once.json()["outcome_id"] and again.headers["Idempotent-Replayed"] == "true"
    other_body = client.post(
        url, json={"resident_id": second, "outcome": "moved"}, headers=_h(keys["writer"], **{"Idempotency-Key": "k-1"})
    )
    assert other_body.status_code == 422 and other_body.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    other_key = client.post(
        url, json={"resident_id": second, "outcome": "moved"}, headers=_h(keys["other"], **{"Idempotency-Key": "k-1"})
    )
    assert other_key.status_code == 201 and other_key.json()["outcome_id"] != once.json()["outcome_id"]
    assert other_key.json()["recorded_by"] == "doctor Qian"


def test_a_voided_outcome_no_longer_hides_the_resident(client, scored, keys):
    (resident,) = _residents(client, keys["writer"], 1)
    url = f"/v1/teams/{TEAM}/outcomes"
    moved = client.post(url, json={"resident_id": resident, "outcome": "moved"}, headers=_h(keys["writer"])).json()
    assert resident not in _residents(client, keys["writer"], 10_000)
    assert (
        client.post(f"{url}/{moved['outcome_id']}/void", json={"reason": " "}, headers=_h(keys["writer"])).status_code
        == 422
    )
    assert (
        client.post(f"{url}/{moved['outcome_id']}/void", json={"reason": "x"}, headers=_h(keys["reader"])).status_code
        == 403
    )
    voided = client.post(
        f"{url}/{moved['outcome_id']}/void", json={"reason": "wrong resident"}, headers=_h(keys["writer"])
    )
    assert voided.status_code == 201, voided.text
    assert voided.json()["outcome"] == "void" and voided.json()["voids"] == moved["outcome_id"]
    assert resident in _residents(client, keys["writer"], 10_000)
    log = client.get(url, headers=_h(keys["writer"])).json()["outcomes"]
    assert {o["outcome_id"] for o in log} >= {moved["outcome_id"], voided.json()["outcome_id"]}  # append-only
    twice = client.post(f"{url}/{moved['outcome_id']}/void", json={"reason": "again"}, headers=_h(keys["writer"]))
    assert twice.status_code == 409
    assert client.post(f"{url}/{'0' * 32}/void", json={"reason": "x"}, headers=_h(keys["writer"])).status_code == 404
    store = ResultStore(scored[2])
    assert moved["outcome_id"] not in {o["outcome_id"] for o in store.outcomes.about_residents(("moved",))}
    voids = [r for r in _audit(scored, "doctor Zhao") if r["route"].endswith("/void")]
    assert [(r["route"], r["action"], r["residents"]) for r in voids] == [
        ("POST /v1/teams/{team_id}/outcomes/{outcome_id}/void", "write", 1)
    ]


def test_the_fhir_routes_are_audited_reads(client, scored, keys):
    """SPEC 16: a FHIR Bundle assessed and a team's MeasureReports are reads of residents' data, one row each."""
    from riskmodel.interchange import population_resources
    from riskmodel.interchange.settings import FhirSettings
    from tests.factories import make_residents

    residents = make_residents([make_resident(resident_id=f"fhir-{i}", team_id=TEAM) for i in range(2)])
    entries = [{"resource": r} for r in population_resources(residents, None, DAY, FhirSettings())]
    document = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    before = len(_audit(scored, "nurse Li"))
    answered = client.post(f"/v1/fhir/assessments?as_of={DAY}", json=document, headers=_h(keys["reader"]))
    assert answered.status_code == 200, answered.text
    assert client.get(f"/v1/fhir/MeasureReport?level=team&id={TEAM}", headers=_h(keys["reader"])).status_code == 200
    rows = _audit(scored, "nurse Li")[before:]
    assert [(r["route"], r["action"], r["teams"], r["residents"]) for r in rows] == [
        ("POST /v1/fhir/assessments", "read", [TEAM], 2),
        ("GET /v1/fhir/MeasureReport", "read", [TEAM], 0),
    ]
    assert rows[0]["request_id"] == answered.headers["X-Request-ID"]
