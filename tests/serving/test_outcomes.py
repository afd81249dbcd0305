"""A day in a team's life (SPEC 6): the list, outcomes recorded, the list again, time passes, a new batch."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

import httpx
import pytest
import time_machine

from riskmodel.batch import score_file
from riskmodel.store.batches import ResultStore
from serving.app import create_app
from tests.serving.live import serving

KEY = "nurse-key"
H = {"X-API-Key": KEY}
TEAM = "T00005"
DAY = "2026-07-01"


@pytest.fixture(scope="module", autouse=True)
def on_the_day():
    """The day the team works: outcomes are accepted only within [today - 30 days, today] (SPEC 16)."""
    with time_machine.travel(dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC), tick=True):
        yield


@pytest.fixture(scope="module")
def loop(on_the_day, tmp_path_factory, model, config, population):
    folder = tmp_path_factory.mktemp("loop")
    team = population[population["team_id"] == TEAM].reset_index(drop=True)
    source = folder / "team.parquet"
    team.to_parquet(source)
    store_url = f"sqlite:///{folder / 'store.db'}"
    score_file(
        source, folder / "scored.parquet", model, config=config, as_of=dt.date(2026, 7, 1), store=ResultStore(store_url)
    )
    keys = {hashlib.sha256(KEY.encode()).hexdigest(): {"label": "nurse Wang", "teams": [TEAM]}}
    settings = config.model_copy(update={"serving": config.serving.model_copy(update={"api_keys": keys})})
    settings = settings.model_validate(settings.model_dump())  # through validation: the key gets its label
    app = create_app(settings, model_uri=str(model.save(folder / "model")), store_url=store_url, poll=False)
    # A real server on loopback (uvicorn), as the team's information system would call it.
    with serving(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client, folder, team, store_url


def _list(client, as_of=DAY, capacity=100_000, screens=None):
    """The whole list, every page followed by its cursor; ``screens``: capacity for bands 2-3 in full and
    that many band-4 (screening) entries (bands 2-4 share the capacity, SPEC 15)."""
    if screens is not None:
        whole = _list(client, as_of=as_of)
        capacity = sum(b["due"] - b["hidden"] for b in whole["bands"] if b["band"] in (2, 3)) + screens
    url = f"/v1/teams/{TEAM}/worklist?as_of={as_of}&capacity={capacity}&lang=en&limit=500"
    response = client.get(url, headers=H)
    assert response.status_code == 200, response.text
    body = response.json()
    while response.json()["next_cursor"]:
        response = client.get(f"/v1/teams/{TEAM}/worklist?limit=500&cursor={response.json()['next_cursor']}", headers=H)
        assert response.status_code == 200, response.text
        body["entries"] += response.json()["entries"]
    assert len(body["entries"]) == body["total"]
    return body


def _post(client, key=None, **body):
    headers = {**H, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/v1/teams/{TEAM}/outcomes", json={"recorded_on": DAY, **body}, headers=headers)


def _has(listing, entry, action):
    """The entry's resident has that action (disease and code) on the list."""
    return any(
        e["resident_id"] == entry["resident_id"]
        and any(a["disease"] == action["disease"] and a["action"] == action["action"] for a in e["actions"])
        for e in listing["entries"]
    )


def _first(entries, action):
    return next(e for e in entries if e["action"] == action)


def test_a_day_in_a_teams_life(loop):
    client, _, _, _ = loop
    before = _list(client, screens=5)
    screens = [e for e in before["entries"] if e["band"] == 4]
    assert len(screens) == 5 and any(c["band"] == 4 for c in before["cuts"])
    agreed, declined = screens[0], screens[1]
    refer = _first(before["entries"], "refer")
    moved = screens[2]

    def act(entry, outcome, **extra):
        first = entry["actions"][0]
        return _post(
            client,
            resident_id=entry["resident_id"],
            disease=first["disease"],
            action=first["action"],
            outcome=outcome,
            **extra,
        )

    response = act(agreed, "agreed", key="call-1")
    assert response.status_code == 201
    body = response.json()
    assert body["hidden_until"] == "2026-07-08" and body["recorded_by"] == "nurse Wang" and KEY not in response.text
    assert act(agreed, "agreed", key="call-1").json()["outcome_id"] == body["outcome_id"]  # recorded once
    assert act(declined, "declined").status_code == 422  # a reason is required
    assert act(declined, "declined", reason="tests at the county hospital").json()["hidden_until"] == "2026-09-29"
    assert act(refer, "agreed").status_code == 201
    assert act(refer, "referral_arrived").status_code == 422  # does not fit refer
    assert act(refer, "referred").status_code == 201
    assert _post(client, resident_id=moved["resident_id"], outcome="moved").status_code == 201

    after = _list(client, screens=5)
    listed = {e["resident_id"]: e for e in after["entries"]}
    assert moved["resident_id"] not in listed
    for entry in (agreed, declined):
        assert not _has(after, entry, entry["actions"][0])
    assert sum(1 for e in after["entries"] if e["band"] == 4) == 5  # capacity refilled by the next residents
    assert after["counts"]["screen"]["hidden"] >= 2
    follow = listed[refer["resident_id"]]
    tracking = [a for a in follow["actions"] if a["action"] == "referral_follow_up"]
    assert tracking and tracking[0]["due_date"] == "2026-07-15"
    assert not any(a["action"] == "refer" and a["disease"] == refer["actions"][0]["disease"] for a in follow["actions"])

    week = _list(client, as_of="2026-07-08", capacity=100_000)  # agreed hides 7 days: back on day 8
    assert _has(week, agreed, agreed["actions"][0])
    assert not _has(week, declined, declined["actions"][0])  # declined: 90 days

    # An earlier list is unaffected by outcomes recorded later.
    earlier = _list(client, as_of="2026-06-30", capacity=100_000)
    assert any(e["resident_id"] == moved["resident_id"] for e in earlier["entries"])

    outcomes = client.get(f"/v1/teams/{TEAM}/outcomes?since=2026-07-01", headers=H).json()["outcomes"]
    assert len(outcomes) == 5 and all(o["recorded_by"] == "nurse Wang" for o in outcomes)
    assert (
        _post(
            client, resident_id=moved["resident_id"], outcome="agreed", disease="diabetes", action="screen"
        ).status_code
        == 409
    )
    assert _post(client, resident_id=moved["resident_id"], outcome="reinstate").status_code == 201


def test_bad_outcomes_answer_clearly(loop):
    client, _, _, _ = loop
    assert _post(client, resident_id="NOT-A-RESIDENT", outcome="moved").status_code == 404
    assert (
        client.post("/v1/teams/T99999/outcomes", json={"resident_id": "x", "outcome": "moved"}, headers=H).status_code
        == 404
    )
    bad = _post(client, resident_id="x", outcome="teleported")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "outcome"
    entries = _list(client, capacity=100_000)["entries"]
    screen_only = next(e for e in entries if [a["action"] for a in e["actions"]] == ["screen"])
    not_due = _post(
        client,
        resident_id=screen_only["resident_id"],
        disease=screen_only["actions"][0]["disease"],
        action="recheck",
        outcome="agreed",
    )
    assert not_due.status_code == 409


def test_done_holds_until_a_later_batch_then_clears_or_returns(loop, model, config):
    client, folder, team, store_url = loop
    entries = _list(client, capacity=100_000)["entries"]
    overdue = [e for e in entries if any(a["action"] == "follow_up_overdue" for a in e["actions"])][:2]
    for entry in overdue:
        action = next(a for a in entry["actions"] if a["action"] == "follow_up_overdue")
        response = _post(
            client,
            resident_id=entry["resident_id"],
            disease=action["disease"],
            action="follow_up_overdue",
            outcome="done",
        )
        assert response.status_code == 201 and response.json()["hidden_until"] == "2026-07-31"

    def has_overdue(listing, resident):
        return any(
            e["resident_id"] == resident and any(a["action"] == "follow_up_overdue" for a in e["actions"])
            for e in listing["entries"]
        )

    assert not any(has_overdue(_list(client, capacity=100_000), e["resident_id"]) for e in overdue)
    # A new batch dated after the outcome: the first resident's follow-up was recorded, the second's was not.
    updated = team.copy()
    updated.loc[updated["resident_id"] == overdue[0]["resident_id"], "last_followup_date"] = "2026-07-01"
    source = folder / "team-next.parquet"
    updated.to_parquet(source)
    score_file(
        source, folder / "next.parquet", model, config=config, as_of=dt.date(2026, 7, 2), store=ResultStore(store_url)
    )
    next_day = _list(client, as_of="2026-07-02", capacity=100_000)
    assert not has_overdue(next_day, overdue[0]["resident_id"])  # the record was updated: done clears
    assert has_overdue(next_day, overdue[1]["resident_id"])  # still due in the later batch: it shows again


def test_two_nurses_recording_at_once_both_land(loop):
    client, _, _, _ = loop
    entries = [e for e in _list(client, capacity=100_000)["entries"] if e["band"] == 4][-2:]
    results: list[int] = []

    def record(entry):
        first = entry["actions"][0]
        with httpx.Client(base_url=str(client.base_url), timeout=60) as own:
            results.append(
                own.post(
                    f"/v1/teams/{TEAM}/outcomes",
                    json={
                        "resident_id": entry["resident_id"],
                        "disease": first["disease"],
                        "action": first["action"],
                        "outcome": "call_later",
                        "recorded_on": DAY,
                    },
                    headers=H,
                ).status_code
            )

    threads = [threading.Thread(target=record, args=(entry,)) for entry in entries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [201, 201]
    recorded = {
        o["resident_id"]
        for o in client.get(f"/v1/teams/{TEAM}/outcomes", headers=H).json()["outcomes"]
        if o["outcome"] == "call_later"
    }
    assert {e["resident_id"] for e in entries} <= recorded
