"""Who to call (SPEC 15): a contacts file is stored in its own table, shown only on the team's own list (CLI
``--contacts``; API ``include=contact`` to a key with the ``contact`` scope), never in logs, MLflow, monitoring
or any other export, and deleted ``contacts.retention_days`` after the resident's removal."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path

import pandas as pd
import pytest
import time_machine
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from riskmodel.cli.commands import app
from riskmodel.store.batches import ResultStore
from riskmodel.synth import write_population
from riskmodel.worklist.contacts import prune_contacts, read_contacts
from riskmodel.worklist.team import record_outcome
from serving.app import create_app
from tests.conftest import SYNTH_AS_OF

NAME, PHONE, ADDRESS = "欧阳测试甲", "13912345678", "幸福里甲9号"
SCOPED, PLAIN = "key-with-contact-scope", "key-without-scope"


@pytest.fixture(scope="module")
def planted(tmp_path_factory, model, config):
    """A scored, published team in a store with planted contacts, every command's files and logs beside it."""
    folder = tmp_path_factory.mktemp("contacts")
    source = write_population(folder / "team.csv", 1500, teams=1, seed=31, as_of=SYNTH_AS_OF)
    ids = pd.read_csv(source, usecols=["resident_id"])["resident_id"].astype(str).tolist()
    contacts = folder / "input" / "contacts.csv"
    contacts.parent.mkdir()
    pd.DataFrame(
        {
            "resident_id": ids,
            "name": [NAME if k == 0 else f"居民{k}" for k in range(len(ids))],
            "phone": [PHONE if k == 0 else f"1380000{k:04d}" for k in range(len(ids))],
            "address": [ADDRESS] + ["" for _ in ids[1:]],
        }
    ).to_csv(contacts, index=False)
    return folder, source, contacts, ids, str(model.save(folder / "model"))


def _run(runner, args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_contacts_reach_only_the_teams_own_list(planted, caplog, monkeypatch):
    folder, source, contacts, ids, model_dir = planted
    work = folder / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # mlflow.db and everything a command writes by default lands here
    store = f"sqlite:///{work / 'store.db'}"
    common = ["--store", store, "--model", model_dir, "--as-of", str(SYNTH_AS_OF)]
    runner = CliRunner()
    caplog.set_level(logging.DEBUG)
    outputs = [
        _run(
            runner,
            [
                "-v",
                "score",
                "--input",
                str(source),
                "--output",
                str(work / "scored.csv"),
                "--contacts",
                str(contacts),
                *common,
            ],
        ),
        _run(
            runner,
            [
                "-v",
                "nightly",
                "--input",
                str(source),
                "--output-dir",
                str(work / "nightly"),
                "--contacts",
                str(contacts),
                *common,
            ],
        ),
    ]
    team = ResultStore(store).teams()[0]
    assert ResultStore(store).contacts.count(team) == len(ids)
    outputs.append(_run(runner, ["worklist", "--team", team, "--store", store, "--model", model_dir]))
    outputs.append(
        _run(runner, ["worklist", "--team", team, "--store", store, "--model", model_dir, "--format", "csv"])
    )
    for fmt, name in (("csv", "ind.csv"), ("json", "ind.json"), ("xlsx", "ind.xlsx")):
        outputs.append(
            _run(runner, ["indicators", "--all", "--store", store, "--format", fmt, "--output", str(work / name)])
        )
    outputs.append(_run(runner, ["monitor", "--store", store, "--report", str(work / "monitor.html")]))
    outputs.append(
        _run(runner, ["reminders", "--team", team, "--store", store, "--model", model_dir, "--format", "csv"])
    )
    planted_values = (NAME, PHONE, ADDRESS)
    for text in outputs:
        assert not any(value in text for value in planted_values)
    assert not any(value in caplog.text for value in planted_values)
    searched = 0
    for path in work.rglob("*"):
        if path.is_file() and not path.name.startswith("store.db"):
            data = path.read_bytes()
            searched += 1
            assert not any(value.encode("utf-8") in data for value in planted_values), path
    assert searched >= 8 and (work / "mlflow.db").exists()
    # The team's own list, asked for them, shows them (name and phone, table and CSV).
    with_contacts = _run(
        runner, ["worklist", "--team", team, "--store", store, "--model", model_dir, "--contacts", "--capacity", "5000"]
    )
    shown = _run(
        runner,
        [
            "worklist",
            "--team",
            team,
            "--store",
            store,
            "--model",
            model_dir,
            "--contacts",
            "--format",
            "csv",
            "--capacity",
            "5000",
        ],
    )
    listed = pd.read_csv(__import__("io").StringIO(shown), dtype=str)
    assert {"name", "phone", "address"} <= set(listed.columns)
    if ids[0] in set(listed["resident_id"]):
        assert NAME in with_contacts and PHONE in with_contacts
        assert listed.loc[listed["resident_id"] == ids[0], "phone"].item() == PHONE
    assert listed["phone"].notna().all()


def test_the_api_gives_contacts_only_to_a_key_with_the_contact_scope(planted, model, config, tmp_path):
    _, source, contacts, ids, model_dir = planted
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    from riskmodel.batch import score_file
    from riskmodel.worklist.contacts import load_contacts

    store = ResultStore(store_url)
    score_file(source, tmp_path / "scored.csv", model, config=config, as_of=SYNTH_AS_OF, store=store)
    team = store.teams()[0]
    assert load_contacts(store, contacts, config, today=config.deployment.today()).stored == len(ids)
    keys = {
        hashlib.sha256(SCOPED.encode()).hexdigest(): {"label": "doctor Li", "teams": [team], "scopes": ["contact"]},
        hashlib.sha256(PLAIN.encode()).hexdigest(): {"label": "county analyst", "teams": ["*"]},
    }
    settings = config.model_validate(
        config.model_copy(update={"serving": config.serving.model_copy(update={"api_keys": keys})}).model_dump()
    )
    with TestClient(create_app(settings, model_uri=model_dir, store_url=store_url, poll=False)) as client:
        url = f"/v1/teams/{team}/worklist?limit=1000&capacity=5000"
        plain = client.get(url, headers={"X-API-Key": PLAIN})
        assert plain.status_code == 200 and NAME not in plain.text and PHONE not in plain.text
        assert all("contact" not in entry for entry in plain.json()["entries"])
        refused = client.get(url + "&include=contact", headers={"X-API-Key": PLAIN})
        assert refused.status_code == 403 and "contact scope" in refused.json()["detail"]
        granted = client.get(url + "&include=contact", headers={"X-API-Key": SCOPED}).json()
        contacts_by_id = {entry["resident_id"]: entry["contact"] for entry in granted["entries"]}
        assert all(contacts_by_id.values())
        if ids[0] in contacts_by_id:
            assert contacts_by_id[ids[0]] == {"name": NAME, "phone": PHONE, "address": ADDRESS}
        assert client.get(url + "&include=phone", headers={"X-API-Key": SCOPED}).status_code == 422
        reminders = client.get(f"/v1/teams/{team}/reminders?include=contact", headers={"X-API-Key": SCOPED}).json()
        assert reminders["reminders"] and all("contact" in r for r in reminders["reminders"])
        assert (
            client.get(f"/v1/teams/{team}/reminders?include=contact", headers={"X-API-Key": PLAIN}).status_code == 403
        )
        # Other listed data never carries them.
        for path in (f"/v1/teams/{team}/outcomes", f"/v1/teams/{team}/indicators", f"/v1/teams/{team}/reminders"):
            text = client.get(path, headers={"X-API-Key": SCOPED}).text
            assert NAME not in text and PHONE not in text, path


@time_machine.travel(dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC), tick=True)  # outcomes dated within 30 days (SPEC 16)
def test_a_removed_residents_contact_is_deleted_after_the_retention(planted, model, config, tmp_path):
    _, source, contacts, ids, _ = planted
    from riskmodel.batch import score_file
    from riskmodel.worklist.contacts import load_contacts

    store = ResultStore(f"sqlite:///{tmp_path / 'store.db'}")
    score_file(source, tmp_path / "scored.csv", model, config=config, as_of=SYNTH_AS_OF, store=store)
    team = store.teams()[0]
    load_contacts(store, contacts, config, today=config.deployment.today())
    moved_on = SYNTH_AS_OF
    for resident, outcome in ((ids[0], "moved"), (ids[1], "died")):
        record_outcome(
            store,
            team,
            model,
            {"resident_id": resident, "outcome": outcome, "recorded_on": moved_on},
            today=config.deployment.today(),
            recorded_by="test",
            config=config,
        )
    record_outcome(
        store,
        team,
        model,
        {"resident_id": ids[2], "outcome": "moved", "recorded_on": moved_on},
        today=config.deployment.today(),
        recorded_by="test",
        config=config,
    )
    record_outcome(
        store,
        team,
        model,
        {"resident_id": ids[2], "outcome": "reinstate", "recorded_on": moved_on},
        today=config.deployment.today(),
        recorded_by="test",
        config=config,
    )
    days = config.contacts.retention_days
    assert prune_contacts(store, config, today=moved_on + dt.timedelta(days=days - 1)) == 0  # still kept
    assert prune_contacts(store, config, today=moved_on + dt.timedelta(days=days)) == 2
    held = store.contacts.for_residents(team, ids[:3])
    assert set(held) == {ids[2]}  # reinstated: kept
    assert store.contacts.count(team) == len(ids) - 2


def test_a_contacts_file_with_bad_rows_names_the_row_and_column_never_the_value(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(f"resident_id,name,phone\nR1,{NAME},{PHONE}\n,无编号,1\nR3,{'长' * 200},2\n", encoding="utf-8")
    rows, rejected, read = read_contacts(path)
    assert read == 3 and [row["resident_id"] for row in rows] == ["R1"]
    assert rejected == [(2, "resident_id", "missing"), (3, "name", "longer than 128 characters")]
    (tmp_path / "none.csv").write_text("name,phone\nA,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="resident_id"):
        read_contacts(tmp_path / "none.csv")
    with pytest.raises(ValueError, match=".csv or .parquet"):
        read_contacts(Path(tmp_path / "contacts.txt").with_suffix(".csv").rename(tmp_path / "c.txt"))
