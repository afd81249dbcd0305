"""The team's list at real volume (SPEC 15): shared capacity, band 1 never cut, paging with a cursor, the batch
and list dates, band names and the counts in words, and reminders (智能提醒)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from riskmodel.batch import score_file
from riskmodel.store.batches import ResultStore
from riskmodel.synth import write_population
from riskmodel.worklist.entries import build_worklist
from riskmodel.worklist.labels import counts_line
from riskmodel.worklist.paging import Cursor, CursorError
from riskmodel.worklist.reminders import MAX_MESSAGE_CHARS, message, team_reminders
from riskmodel.worklist.team import record_outcome, team_worklist
from tests.conftest import SYNTH_AS_OF
from tests.factories import make_residents

EMERGENCY = {"sbp_mmhg": 185, "dbp_mmhg": 100, "bp_date": "2026-06-20", "glucose_date": "2026-06-20"}
OLD = {"bp_date": "2023-01-01", "glucose_date": "2023-01-01", "exam_date": "2023-01-01", "age_years": 55.0}
# Written from SPEC 15, independent of the code's own list: a reminder never names a disease or a diagnosis.
DIAGNOSIS_WORDS = (
    "糖尿病",
    "高血压",
    "确诊",
    "诊断",
    "慢病",
    "慢性病",
    "患者",
    "病人",
    "高危",
    "血压高",
    "血糖高",
    "异常",
)


@pytest.fixture(scope="module")
def hand_built():
    rows = [dict(EMERGENCY) for _ in range(3)]
    rows += [{"ogtt_2h_mmol_l": 13.0 + k, "fpg_mmol_l": 5.0, "glucose_date": "2026-06-20"} for k in range(4)]
    rows += [dict(OLD) for _ in range(6)]
    return make_residents(rows)


def _bands(worklist):
    return [entry["band"] for entry in worklist.entries]


def test_band_1_over_capacity_is_kept_in_full_and_bands_2_to_4_share_the_capacity(hand_built, model):
    full = build_worklist(hand_built, model, as_of="2026-07-01", capacity=1000, lang="zh")
    bands = _bands(full)
    assert bands.count(1) == 3 and bands.count(2) == 4 and bands.count(4) >= 3, bands
    one = build_worklist(hand_built, model, as_of="2026-07-01", capacity=1, lang="zh")
    assert _bands(one) == [1, 1, 1, 2]  # band 1 over capacity: all three kept; the one slot goes to band 2
    by_band = {b["band"]: b for b in one.bands}
    assert by_band[1] == {**by_band[1], "due": 3, "listed": 3, "cut": 0}
    assert by_band[2] == {**by_band[2], "due": 4, "listed": 1, "cut": 3}
    assert by_band[4]["listed"] == 0 and by_band[4]["cut"] == bands.count(4)
    # Capacity exactly bands 2 + 4: nothing cut; one less: the last screening entry is cut.
    exact = build_worklist(hand_built, model, as_of="2026-07-01", capacity=4 + bands.count(4), lang="en")
    assert exact.cuts == [] and len(exact.entries) == len(full.entries)
    short = build_worklist(hand_built, model, as_of="2026-07-01", capacity=3 + bands.count(4), lang="en")
    assert [c["band"] for c in short.cuts] == [4] and short.cuts[0]["cut"] == 1
    assert [b["label"] for b in one.bands] == ["紧急", "确诊与转诊", "随访", "筛查"]
    assert [b["label"] for b in exact.bands] == ["urgent", "confirm and refer", "follow-up", "screening"]


def test_counts_line_is_in_words_for_every_band_without_priority_scores(hand_built, model):
    one = build_worklist(hand_built, model, as_of="2026-07-01", capacity=1, lang="zh")
    text = counts_line(one.bands, "zh")
    assert text.startswith("紧急 3 人：全部列出；确诊与转诊 4 人：列出 1 人，容量所限未列 3 人；")
    assert "随访 0 人" in text and "筛查" in text
    assert not re.search(r"\d+\.\d", text) and "<" not in text and "优先级" not in text
    english = counts_line(one.bands, "en")
    assert english.startswith("urgent: 3 due, all listed; confirm and refer: 4 due, 1 listed, 3 left off (capacity)")


@pytest.fixture(scope="module")
def team_store(tmp_path_factory, model, config):
    folder = tmp_path_factory.mktemp("team_list")
    source = write_population(folder / "team.parquet", 1500, teams=1, seed=21, as_of=SYNTH_AS_OF)
    store = ResultStore(f"sqlite:///{folder / 'store.db'}")
    score_file(source, folder / "scored.parquet", model, config=config, as_of=SYNTH_AS_OF, store=store)
    (team,) = store.teams()
    return store, team


def test_paging_with_the_cursor_gives_every_entry_once_in_order(team_store, model, config):
    store, team = team_store
    whole, _ = team_worklist(
        store, team, model, today=config.deployment.today(), config=config, capacity=120, reasons=False
    )
    seen, cursor, pages = [], None, 0
    while True:
        page, meta = team_worklist(
            store, team, model, today=config.deployment.today(), config=config, capacity=120, limit=50, cursor=cursor
        )
        assert page.total == whole.total and page.bands == whole.bands  # the counts cover the whole list
        assert len(page.entries) <= 50 and all(entry["reasons"] for entry in page.entries)
        seen += [(entry["rank"], entry["resident_id"]) for entry in page.entries]
        pages += 1
        cursor = meta["next_cursor"]
        if cursor is None:
            break
    assert seen == [(entry["rank"], entry["resident_id"]) for entry in whole.entries]
    assert [rank for rank, _ in seen] == list(range(1, whole.total + 1))
    assert pages == -(-whole.total // 50) and whole.total > 100


def test_a_cursor_that_is_not_ours_is_422_and_one_from_an_older_batch_409(team_store, model, config):
    store, team = team_store
    with pytest.raises(CursorError) as bad:
        team_worklist(
            store, team, model, today=config.deployment.today(), config=config, limit=5, cursor="not-a-cursor"
        )
    assert bad.value.status == 422
    old = Cursor("another-batch", SYNTH_AS_OF, 10, 5, SYNTH_AS_OF).encode()
    with pytest.raises(CursorError) as gone:
        team_worklist(store, team, model, today=config.deployment.today(), config=config, limit=5, cursor=old)
    assert gone.value.status == 409


def test_the_list_is_as_of_the_batch_date_and_warns_when_the_batch_is_old(team_store, model, config):
    store, team = team_store
    page, meta = team_worklist(
        store, team, model, today=config.deployment.today(), config=config, limit=1, reasons=False
    )
    assert page.as_of == SYNTH_AS_OF and meta["as_of"] == SYNTH_AS_OF
    days = (config.deployment.today() - SYNTH_AS_OF).days
    assert days > 2 and meta["stale_batch"]["days_old"] == days and meta["stale_batch"]["limit_days"] == 2
    later, meta = team_worklist(
        store, team, model, today=config.deployment.today(), config=config, as_of="2026-07-10", limit=1, reasons=False
    )
    assert later.as_of == dt.date(2026, 7, 10)
    lenient = config.model_copy(update={"worklist": config.worklist.model_copy(update={"stale_batch_days": days})})
    assert (
        team_worklist(store, team, model, today=lenient.deployment.today(), config=lenient, limit=1, reasons=False)[1][
            "stale_batch"
        ]
        is None
    )


def test_reminders_name_what_when_where_in_one_sms_without_a_diagnosis(team_store, model, config):
    store, team = team_store
    found, meta = team_reminders(store, team, model, today=config.deployment.today(), within_days=7, config=config)
    assert found and meta["clinic"] == "社区卫生服务中心"
    for reminder in found:
        text = reminder["message"]
        assert len(text) <= MAX_MESSAGE_CHARS, text
        assert "社区卫生服务中心" in text and text.startswith("您好，请")
        assert not any(word in text for word in DIAGNOSIS_WORDS), text
        assert all(a["action"] != "refer_now" for a in reminder["actions"])
        assert all(
            dt.date.fromisoformat(a["due_date"]) <= SYNTH_AS_OF + dt.timedelta(days=7) for a in reminder["actions"]
        )
    assert message(["复测血压"], dt.date(2026, 12, 9), "XX社区卫生服务中心") == (
        "您好，请于12月9日前到XX社区卫生服务中心复测血压。如已完成请忽略。"
    )
    long_clinic = "城关镇" * 10
    assert len(message(["复测血压", "空腹抽血查血糖"], dt.date(2026, 12, 9), long_clinic)) <= MAX_MESSAGE_CHARS


@time_machine.travel(dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC), tick=True)  # outcomes dated within 30 days (SPEC 16)
def test_reminded_hides_the_reminder_for_7_days(team_store, model, config):
    store, team = team_store
    found, _ = team_reminders(
        store, team, model, today=config.deployment.today(), within_days=7, config=config, as_of=SYNTH_AS_OF
    )
    resident = found[0]["resident_id"]
    row, _ = record_outcome(
        store,
        team,
        model,
        {"resident_id": resident, "outcome": "reminded", "recorded_on": SYNTH_AS_OF},
        today=config.deployment.today(),
        recorded_by="test",
        config=config,
    )
    assert row["hidden_until"] == SYNTH_AS_OF + dt.timedelta(days=7) and row["action"] is None

    def reminded(day):
        return resident in {
            r["resident_id"]
            for r in team_reminders(store, team, model, today=config.deployment.today(), config=config, as_of=day)[0]
        }

    assert not reminded(SYNTH_AS_OF) and not reminded(SYNTH_AS_OF + dt.timedelta(days=6))
    assert reminded(SYNTH_AS_OF + dt.timedelta(days=7))
    # The list's actions stay: reminded records a text sent, it hides nothing on the list.
    listed, _ = team_worklist(
        store,
        team,
        model,
        today=config.deployment.today(),
        config=config,
        as_of=SYNTH_AS_OF,
        reasons=False,
        capacity=100_000,
    )
    assert resident in {entry["resident_id"] for entry in listed.entries}
    config_clinic = config.model_copy(
        update={"reminders": config.reminders.model_copy(update={"clinics": {team: "城关镇卫生院"}})}
    )
    other, meta = team_reminders(
        store, team, model, today=config_clinic.deployment.today(), config=config_clinic, as_of=SYNTH_AS_OF
    )
    assert meta["clinic"] == "城关镇卫生院" and all("城关镇卫生院" in r["message"] for r in other)


TODAY = dt.date(2026, 11, 2)  # the batch is 124 days old


def test_every_action_on_the_list_takes_an_outcome_recorded_today_though_the_batch_is_old(tmp_path, model, config):
    """SPEC 6 and 15: the list is as of the published batch's date; an action on it is "due in the latest batch",
    so the team can record its outcome today (never 409), and the entry leaves the list at once. Found in
    the browser: 'agreed' on a confirmation listed from a months-old batch was refused as not due today."""
    source = write_population(tmp_path / "team.parquet", 400, teams=1, seed=5, as_of=SYNTH_AS_OF)
    store = ResultStore(f"sqlite:///{tmp_path / 'store.db'}")
    score_file(source, tmp_path / "scored.parquet", model, config=config, as_of=SYNTH_AS_OF, store=store)
    (team,) = store.teams()
    listing, _ = team_worklist(store, team, model, today=TODAY, config=config, capacity=100_000, reasons=False)
    assert listing.as_of == SYNTH_AS_OF and listing.entries
    chosen = {}
    for entry in listing.entries:
        first = entry["actions"][0]
        chosen.setdefault(first["action"], (entry["resident_id"], first["disease"], first["action"]))
    assert {"confirm_diagnosis", "screen"} <= set(chosen), sorted(chosen)
    for resident, disease, action in chosen.values():
        row, new = record_outcome(
            store,
            team,
            model,
            {"resident_id": resident, "disease": disease, "action": action, "outcome": "agreed"},
            today=TODAY,
            recorded_by="nurse",
            config=config,
        )
        assert new and row["recorded_on"] == TODAY
    after, _ = team_worklist(store, team, model, today=TODAY, config=config, capacity=100_000, reasons=False)
    still = {(e["resident_id"], a["disease"], a["action"]) for e in after.entries for a in e["actions"]}
    assert not still & set(chosen.values())

    # A confirmation answered "not confirmed" (SPEC 13.2) changes what is due; whatever the list then shows for
    # that resident takes an outcome too (the check and the list see the same state).
    confirming = [
        (e["resident_id"], a["disease"])
        for e in after.entries
        for a in e["actions"]
        if a["action"] == "confirm_diagnosis" and e["resident_id"] not in {r for r, _, _ in chosen.values()}
    ][:10]
    assert confirming
    for resident, disease in confirming:
        request = {"resident_id": resident, "disease": disease, "action": "confirm_diagnosis"}
        record_outcome(
            store,
            team,
            model,
            {**request, "outcome": "not_confirmed", "reason": "复查正常"},
            today=TODAY,
            recorded_by="doctor",
            config=config,
        )
    again, _ = team_worklist(store, team, model, today=TODAY, config=config, capacity=100_000, reasons=False)
    for entry in again.entries:
        if entry["resident_id"] not in {r for r, _ in confirming}:
            continue
        for action in entry["actions"]:
            record_outcome(
                store,
                team,
                model,
                {
                    "resident_id": entry["resident_id"],
                    "disease": action["disease"],
                    "action": action["action"],
                    "outcome": "call_later",
                },
                today=TODAY,
                recorded_by="nurse",
                config=config,
            )
    store.dispose()
