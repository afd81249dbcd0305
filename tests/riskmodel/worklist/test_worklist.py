"""Work lists (SPEC section 6): order, capacity, reasons in both languages, speed-independent checks."""

from __future__ import annotations

import pytest

from riskmodel.rules.actions import ACTIONS
from riskmodel.worklist.entries import build_worklist
from tests.conftest import SYNTH_AS_OF


@pytest.fixture(scope="module")
def team(population):
    return population[population["team_id"] == "T00002"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_worklist_order_capacity_and_reasons(team, model, lang):
    worklist = build_worklist(team, model, as_of=SYNTH_AS_OF, capacity=7, lang=lang)
    ranks = [ACTIONS.index(a) for a in worklist["action"]]
    assert ranks == sorted(ranks)
    assert worklist["priority"].is_monotonic_decreasing
    counts = worklist["action"].value_counts()
    assert counts.get("screen", 0) <= 7 and counts.get("follow_up_overdue", 0) <= 7
    assert "none" not in counts
    assert worklist["reasons"].map(len).min() >= 1
    text = " ".join(" ".join(r) for r in worklist["reasons"])
    if lang == "zh":
        assert "筛查" in text or "随访" in text or "复查" in text
    else:
        assert "Screening test due" in text or "follow-up" in text
    screens = worklist[worklist["action"] == "screen"]
    assert len(screens) == 7
    assert screens["tests"].str.len().min() > 0


def test_capacity_never_cuts_urgent_classes(team, model):
    small = build_worklist(team, model, as_of=SYNTH_AS_OF, capacity=1, lang="en")
    large = build_worklist(team, model, as_of=SYNTH_AS_OF, capacity=1000, lang="en")
    urgent = ["refer_now", "confirm_diagnosis", "refer", "recheck"]
    assert (small["action"].isin(urgent).sum() == large["action"].isin(urgent).sum()) and small["action"].isin(
        urgent
    ).any()


def test_model_reasons_name_values_for_model_decided_screens(team, model):
    worklist = build_worklist(team, model, as_of=SYNTH_AS_OF, capacity=50, lang="en")
    screens = worklist[worklist["action"] == "screen"]
    assert screens["reasons"].map(lambda r: any("raises" in line for line in r)).any()


def test_confirmed_measurement_diagnosis_is_recorded_not_recalled(model):
    from tests.factories import make_residents

    residents = make_residents([{"fpg_mmol_l": 8.0, "hba1c_pct": 7.0}, {"fpg_mmol_l": 8.0, "hba1c_pct": 5.5}])
    worklist = build_worklist(residents, model, as_of="2026-07-01", lang="en").set_index("resident_id")
    assert "record the diagnosis" in worklist.loc["r-0000", "reasons"][0]
    assert "recall to confirm" in worklist.loc["r-0001", "reasons"][0]
    assert worklist.loc["r-0001", "tests"].startswith("HbA1c")
