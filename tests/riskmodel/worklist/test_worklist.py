"""Work lists (SPEC section 6): one entry per resident, bands and order, capacity, reasons in both languages."""

from __future__ import annotations

import re

import pytest

from riskmodel.worklist.entries import build_worklist
from tests.conftest import SYNTH_AS_OF
from tests.factories import make_residents


@pytest.fixture(scope="module")
def team(population):
    return population[population["team_id"] == "T00002"]


@pytest.fixture(scope="module", params=["zh", "en"])
def lists(request, team, model):
    return request.param, build_worklist(team, model, as_of=SYNTH_AS_OF, capacity=7, lang=request.param)


def test_bands_then_priority_and_bands_2_to_4_share_the_capacity(lists, team, model):
    _, worklist = lists
    keys = [(entry["band"], -entry["priority"]) for entry in worklist.entries]
    assert keys == sorted(keys)
    assert len({entry["resident_id"] for entry in worklist.entries}) == len(worklist.entries)
    bands = [entry["band"] for entry in worklist.entries]
    large = build_worklist(team, model, as_of=SYNTH_AS_OF, capacity=100_000, lang="en")
    assert bands.count(1) == sum(1 for e in large.entries if e["band"] == 1)  # band 1 is never cut
    assert len(bands) - bands.count(1) == 7  # bands 2-4 share 7 slots, filled in band order
    shared = [e["resident_id"] for e in large.entries if e["band"] > 1][:7]
    assert [e["resident_id"] for e in worklist.entries if e["band"] > 1] == shared
    listed = {e["resident_id"] for e in worklist.entries}
    assert worklist.cuts and all(cut["band"] > 1 for cut in worklist.cuts)
    for cut in worklist.cuts:
        assert cut["listed"] + cut["cut"] == cut["entries_due"] > cut["listed"]
        assert cut["first_left_off"]["resident_id"] not in listed
        if cut["cut_off_priority"] is not None:
            assert cut["first_left_off"]["priority"] <= cut["cut_off_priority"]


def test_counts_say_due_listed_and_hidden_per_action(lists):
    _, worklist = lists
    for name, count in worklist.counts.items():
        assert count["listed"] <= count["due"] and count["hidden"] == 0, name
    listed = sum(len(entry["actions"]) for entry in worklist.entries)
    assert listed == sum(count["listed"] for count in worklist.counts.values())


def test_entry_lists_every_due_action_most_urgent_first(lists):
    _, worklist = lists
    for entry in worklist.entries:
        priorities = [action["priority"] for action in entry["actions"]]
        assert priorities == sorted(priorities, reverse=True)
        assert entry["action"] == entry["actions"][0]["action"]
        assert entry["overdue_days"] == entry["actions"][0]["overdue_days"] >= 0
    assert any(len({a["disease"] for a in entry["actions"]}) == 2 for entry in worklist.entries)


_ALLOWED_LATIN = re.compile(r"\[[^\]]*\]|mmHg|mmol/L|kg/m²|cm|kg|%|OGTT|HbA1c")
_DATED_VALUE = re.compile(r"(\d+/\d+ mmHg|\d+\.\d mmol/L|\d+\.\d %)(?P<after>.{0,40})")


def test_reasons_read_as_a_doctor_expects(lists):
    lang, worklist = lists
    for entry in worklist.entries:
        reasons = entry["reasons"]
        assert reasons and len(reasons) == len(set(reasons)), "a fact appears once"
        text = "\n".join(reasons)
        if lang == "zh":
            assert not re.search(r"[A-Za-z]{2,}", _ALLOWED_LATIN.sub("", text)), text
            assert len(re.findall(r"年龄 \d+ 岁", text)) <= 1
            assert "危急值" not in text and "糖耐量异常" not in text
            assert entry["action_label"] and not re.search(r"[A-Za-z]", entry["action_label"])
            assert not re.search(r"[A-Za-z]", entry["diabetes"]["tier_label"] + entry["hypertension"]["tier_label"])
        else:
            assert len(re.findall(r"\bage \d+", text)) <= 1
            assert not re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", text), text
        for match in _DATED_VALUE.finditer(text):
            if re.search(r"≥|above|outside", text[max(0, match.start() - 14) : match.start()]):
                continue  # a guideline threshold, not a value
            assert re.match(r"\s?[（(,，]\s?(\d{4}-\d{2}-\d{2}|日期未记录|date not recorded)", match["after"]), text
        for line in reasons:
            if "模型提示" in line or "the model counts it" in line:
                assert not re.search(r"未记录|无|not recorded|\bno\b", line), line
        managed = [d for d in ("diabetes", "hypertension") if entry[d]["tier_source"] == "record"]
        heads = {  # a finding line names its disease in its head (SPEC 13.5)
            "diabetes": ("糖尿病高危因素", "糖尿病相关", "糖尿病、", "Diabetes ", "Related to diabetes"),
            "hypertension": (
                "高血压高危因素",
                "高血压相关",
                "、高血压",
                "Hypertension ",
                "and hypertension",
                "to hypertension",
            ),
        }
        for disease in managed:  # screening findings are not shown for a disease already managed
            for line in reasons:
                head = line.split("：" if lang == "zh" else ": ")[0]
                assert not any(word in head for word in heads[disease]), line
        for d in ("diabetes", "hypertension"):
            if entry[d]["tier_source"] == "model" and any(a["disease"] == d for a in entry["actions"]):
                assert ("模型预测" if lang == "zh" else "by model prediction") in text


SNAPSHOT_TEAM = [
    # BP emergency with a confirmed diabetes (two tests on one day): both diseases in one entry.
    {
        "sex": "M",
        "age_years": 62,
        "sbp_mmhg": 194,
        "dbp_mmhg": 108,
        "bp_date": "2026-06-28",
        "fpg_mmol_l": 8.0,
        "hba1c_pct": 7.0,
        "glucose_date": "2026-06-28",
        "waist_cm": 95,
        "weight_kg": 72,
    },
    # Managed hypertensive, two uncontrolled follow-ups; an FPG in the diabetes range, unconfirmed.
    {
        "age_years": 58,
        "diagnosed_hypertension": True,
        "on_antihypertensive": True,
        "uncontrolled_visits": 2,
        "last_followup_date": "2026-06-10",
        "sbp_mmhg": 172,
        "dbp_mmhg": 90,
        "bp_date": "2026-06-10",
        "fpg_mmol_l": 7.4,
        "hba1c_pct": None,
        "glucose_date": "2026-06-10",
    },
    # A borderline first reading, a year-old exam.
    {"age_years": 41, "sbp_mmhg": 140, "dbp_mmhg": 63, "bp_date": "2026-06-25", "glucose_date": "2026-06-25"},
    # Managed diabetic, follow-up overdue, old values.
    {
        "age_years": 70,
        "diagnosed_diabetes": True,
        "on_glucose_lowering": True,
        "last_followup_date": "2026-01-15",
        "fpg_mmol_l": 6.5,
        "glucose_date": "2026-01-15",
        "sbp_mmhg": 128,
        "dbp_mmhg": 76,
        "bp_date": "2025-08-01",
    },
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_snapshot_of_a_hand_built_team(model, lang, snapshot_text):
    residents = make_residents(SNAPSHOT_TEAM)
    worklist = build_worklist(residents, model, as_of="2026-07-01", lang=lang, capacity=10)
    lines = []
    for entry in worklist.entries:
        actions = ", ".join(
            f"{a['disease']}:{a['action']}:{a['due_date']}:{a['overdue_days']}" for a in entry["actions"]
        )
        lines.append(f"{entry['rank']} {entry['resident_id']} {entry['action_label']} [{actions}]")
        lines += [f"  - {reason}" for reason in entry["reasons"]]
    snapshot_text(f"worklist_{lang}.txt", "\n".join(lines) + "\n")
