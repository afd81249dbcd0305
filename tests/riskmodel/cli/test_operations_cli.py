"""Operations on the command line (SPEC 16): keys issued per person, the audit log, void, erase, and the
outcome date window."""

from __future__ import annotations

import datetime as dt
import getpass
import json

import pytest
import sqlalchemy as sa
import time_machine
from typer.testing import CliRunner

from riskmodel.cli.commands import app
from riskmodel.store.batches import ResultStore
from riskmodel.store.keys import key_digest
from riskmodel.store.tables import api_keys

runner = CliRunner()
TEAM = "T00002"
DAY = dt.date(2026, 7, 1)
MORNING = dt.datetime(2026, 7, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 in Asia/Shanghai


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture()
def store_url(tmp_path):
    return f"sqlite:///{tmp_path / 'store.db'}"


def test_keys_add_list_revoke(store_url):
    added = _run(
        "keys", "add", "--label", "nurse Li", "--teams", "T1,T2", "--scopes", "read,write", "--store", store_url
    )
    assert added.exit_code == 0, added.output
    key = added.output.splitlines()[0]
    assert len(key) >= 32
    with ResultStore(store_url).engine.connect() as connection:
        stored = connection.execute(sa.select(api_keys)).mappings().one()
    assert stored["digest"] == key_digest(key) and key not in json.dumps(dict(stored), default=str)
    again = _run("keys", "add", "--label", "nurse Li", "--teams", "T1", "--store", store_url)
    assert again.exit_code == 1 and len(again.output.strip().splitlines()) == 1 and "unique" in again.output
    bad = _run("keys", "add", "--label", "x", "--teams", "T1", "--scopes", "read,admin", "--store", store_url)
    assert bad.exit_code == 1 and "admin" in bad.output
    listed = _run("keys", "list", "--format", "json", "--store", store_url)
    rows = json.loads(listed.output)
    assert [(r["label"], r["teams"], r["scopes"], r["revoked_at"]) for r in rows] == [
        ("nurse Li", ["T1", "T2"], ["read", "write"], None)
    ]
    assert key not in listed.output and key_digest(key) not in listed.output
    assert _run("keys", "revoke", "--label", "nurse Li", "--store", store_url).exit_code == 0
    assert ResultStore(store_url).keys.find(key_digest(key)) is None
    assert _run("keys", "revoke", "--label", "nurse Li", "--store", store_url).exit_code == 1
    table = _run("keys", "list", "--store", store_url)
    assert "nurse Li" in table.output and key_digest(key) not in table.output


@pytest.fixture()
def published(tmp_path, model, population):
    source = tmp_path / "team.parquet"
    population[population["team_id"] == TEAM].reset_index(drop=True).to_parquet(source)
    store_url = f"sqlite:///{tmp_path / 'scored.db'}"
    model_dir = model.save(tmp_path / "model")
    with time_machine.travel(MORNING, tick=True):
        result = _run(
            "score", "--input", source, "--output", tmp_path / "o.parquet", "--model", model_dir,
            "--store", store_url, "--as-of", DAY,
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    return store_url, str(model_dir)


def test_outcome_void_erase_and_the_audit_log_from_the_command_line(published):
    store_url, model_dir = published
    store = ResultStore(store_url)
    resident = store.team_residents(TEAM)[0]["resident_id"].iloc[0]
    outcome = ("outcome", "--team", TEAM, "--resident", resident, "--outcome", "moved", "--store", store_url)
    with time_machine.travel(MORNING + dt.timedelta(hours=1), tick=True):
        late = _run(*outcome, "--recorded-on", "2026-05-31", "--model", model_dir)
        assert late.exit_code == 1 and "recorded_on" in late.output and "Traceback" not in late.output
        recorded = _run(*outcome, "--recorded-on", "2026-06-01", "--note", "搬到女儿家", "--model", model_dir)
        assert recorded.exit_code == 0, recorded.output
        (row,) = store.outcomes.for_team(TEAM)
        assert row["note"] == "搬到女儿家"
        void = ("void", "--team", TEAM, "--id", row["outcome_id"], "--store", store_url)
        assert _run(*void).exit_code == 2  # --reason is required
        voided = _run(*void, "--reason", "wrong resident")
        assert voided.exit_code == 0, voided.output
        assert store.outcomes.for_team(TEAM) == []  # nothing in effect
        assert [o["outcome"] for o in store.outcomes.for_team(TEAM, effective=False)] == ["moved", "void"]
        twice = _run(*void, "--reason", "again")
        assert twice.exit_code == 1 and "already voided" in twice.output
        erased = _run("erase", "--team", TEAM, "--resident", resident, "--store", store_url)
        assert erased.exit_code == 0 and "1 notes" in erased.output, erased.output
        assert [o["note"] for o in store.outcomes.for_team(TEAM, effective=False)] == [None, None]
        unknown = _run("erase", "--team", TEAM, "--resident", "nobody", "--store", store_url)
        assert unknown.exit_code == 1 and "nobody" in unknown.output
    listed = _run("audit", "--since", "2026-07-01", "--format", "json", "--store", store_url)
    assert listed.exit_code == 0, listed.output
    batch, *rows = json.loads(listed.output)
    actor = f"cli:{getpass.getuser()}"
    assert [(r["route"], r["action"], r["actor"], r["teams"], r["residents"]) for r in rows] == [
        ("outcome", "write", actor, [TEAM], 1),
        ("void", "write", actor, [TEAM], 1),
        ("erase", "write", actor, [TEAM], 1),
    ]
    assert (batch["route"], batch["action"], batch["actor"], batch["teams"]) == ("score", "write", actor, [TEAM])
    assert batch["residents"] == len(store.team_residents(TEAM)[0])
    assert batch["request_id"] == store.latest_batch()["batch_id"]
    assert batch["at_local"].startswith("2026-07-01T09:") and batch["at_local"].endswith("+08:00")
    only = _run("audit", "--since", "2026-07-01", "--key", "nobody", "--format", "json", "--store", store_url)
    assert json.loads(only.output) == []
    csv = _run("audit", "--since", "2026-07-01", "--format", "csv", "--store", store_url).output
    assert csv.splitlines()[0] == "at_utc,at_local,actor,client,teams,residents,request_id,route,action"
    assert _run("audit", "--since", "2026-07-01", "--format", "xml", "--store", store_url).exit_code == 1
    assert json.loads(_run("audit", "--since", "2026-07-02", "--format", "json", "--store", store_url).output) == []
