"""What the doctor reads (SPEC 6 reasons and 13.5), one rule per test, boundaries both sides.

SPEC 13.5: a finding line names its disease; "高血压或正在接受降压治疗" (CDS 2020) only for a recorded or
confirmed hypertension or treatment, otherwise "血压升高（未确诊）"; a line that counts risk factors names
them; actions hidden by an outcome are not in the reasons; waist, waist-to-height ratio and BMI are each
named as themselves; the HbA1c prediabetes range (5.7-6.4, ADA Standards of Care) applies only where
configured, and its reference names ADA. SPEC 6: in zh every label is Chinese.
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import numpy as np
import pytest

from riskmodel.config import GlycaemiaConfig, RiskConfig
from riskmodel.model.features import derived_features
from riskmodel.records.derivation import history_state
from riskmodel.records.events import events_table
from riskmodel.records.history import row_state
from riskmodel.records.reading import resident_columns
from riskmodel.rules.actions import ACTIONS, DISEASE_ORDER
from riskmodel.rules.guidelines.findings import HYPERTENSION_COUNTED_CODES, hypertension_findings
from riskmodel.scoring import assess_rules
from riskmodel.worklist.entries import build_worklist
from riskmodel.worklist.explain import FEATURES, FLAGS, describe_risk, resident_reasons, resident_view
from riskmodel.worklist.outcomes import apply_referrals, outcome_effects, referral_hides
from tests.factories import AS_OF, assess_one, columns_of, make_residents, probabilities_of

DAY = dt.date.fromisoformat(AS_OF)
EXAM = "2026-05-01"  # the factory resident's exam, BP and glucose date
ALLOWED_LATIN = re.compile(r"\[[^\]]*\]|mmHg|mmol/L|kg/m²|cm|kg|%|OGTT|HbA1c")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture(scope="module")
def rules_config(config: RiskConfig) -> RiskConfig:
    """The default config without model reasons (these residents' tiers are decided by their results)."""
    return config.model_copy(update={"worklist": config.worklist.model_copy(update={"top_features": 0})})


def _with(config: RiskConfig, **glycaemia: object) -> RiskConfig:
    return config.model_copy(update={"glycaemia": GlycaemiaConfig(**glycaemia)})


def _reasons(config: RiskConfig, lang: str = "zh", **overrides: object) -> list[str]:
    return resident_reasons(assess_one(config, **overrides), np.array([0]), None, config, lang)[0]  # type: ignore[arg-type]


def _event(k: int, days_before: int, kind: str = "screening", **values: object) -> dict[str, object]:
    day = DAY - dt.timedelta(days=days_before)
    return {"event_id": f"e{k}", "resident_id": "r-0000", "event_date": day, "kind": kind, **values}


def _assess_events(config: RiskConfig, events: list[dict[str, object]], **row: object):  # type: ignore[no-untyped-def]
    columns = columns_of(resident_id="r-0000", **row)
    state = history_state(columns, np.array(["r-0000"], dtype=object), events_table(events), as_of=DAY, config=config)
    return assess_rules(columns, probabilities_of(), as_of=DAY, config=config, state=state)


# ------------------------------------------------------------------------------------------ a line names its disease


@pytest.mark.parametrize(
    ("overrides", "lang", "line"),
    [
        ({"age_years": 52}, "zh", "糖尿病高危因素：年龄 52 岁（≥40 岁） [糖尿病指南 2020]"),
        ({"age_years": 52}, "en", "Diabetes risk factor: age 52 (40 or over) [CDS 2020]"),
        (
            {"age_years": 55},
            "zh",
            "糖尿病、高血压高危因素：年龄 55 岁（糖尿病≥40 岁，高血压≥55 岁） [糖尿病指南 2020; 基本公卫规范 2017]",
        ),
        (
            {"age_years": 55},
            "en",
            "Diabetes and hypertension risk factor: age 55 (40 or over for diabetes, 55 or over for hypertension) "
            "[CDS 2020; BPHS 2017]",
        ),
        (
            {"age_years": 30, "family_history_hypertension": True},
            "zh",
            "高血压高危因素：有高血压家族史 [基本公卫规范 2017]",
        ),
        (
            {"age_years": 30, "physically_active": False},
            "en",
            "Diabetes risk factor: physically inactive (sedentary) [CDS 2020]",
        ),
        (
            {"age_years": 30, "sbp_mmhg": 125},
            "zh",
            "高血压相关：血压 125/72 mmHg（2026-05-01），属正常高值（120-139/80-89 mmHg） [高血压指南 2018]",
        ),
        (
            {"age_years": 30, "sbp_mmhg": 130},
            "en",
            "Hypertension risk factor: BP 130/72 mmHg (2026-05-01) in the 130-139/85-89 band "
            "[BPHS 2017; Chinese hypertension guideline 2018]",
        ),
    ],
)
def test_a_finding_line_names_its_disease(rules_config, overrides, lang, line):
    assert line in _reasons(rules_config, lang, **overrides)


@pytest.mark.parametrize(
    ("age", "heads"),
    [(39, []), (40, ["糖尿病高危因素"]), (54, ["糖尿病高危因素"]), (55, ["糖尿病、高血压高危因素"])],
)
def test_age_is_stated_once_naming_each_disease_it_is_a_risk_factor_of(rules_config, age, heads):
    # CDS 2020: age >= 40; BPHS 2017: age >= 55.
    lines = [line for line in _reasons(rules_config, age_years=age) if "年龄" in line]
    assert [line.split("：")[0] for line in lines] == heads


def test_the_cds2024_profile_words_its_own_age_and_reference(rules_config):
    config = _with(rules_config, high_risk_profile="cds2024")
    assert "糖尿病高危因素：年龄 35 岁（≥35 岁） [糖尿病指南 2024]" in _reasons(config, age_years=35)
    assert not any("年龄" in line for line in _reasons(config, age_years=34))


# ---------------------------------------------------------------------------------- hypertension as a CDS factor

KNOWN = "高血压或正在接受降压治疗"
RAISED = "血压升高（未确诊）"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"sbp_mmhg": 139, "dbp_mmhg": 89}, None),
        ({"sbp_mmhg": 140, "dbp_mmhg": 80}, RAISED),  # one reading: not a diagnosis
        ({"sbp_mmhg": 120, "dbp_mmhg": 90}, RAISED),
        ({"sbp_mmhg": 150, "dbp_mmhg": 95, "bp_date": "2024-06-25"}, RAISED),  # stale, never recorded
        ({"diagnosed_hypertension": True, "sbp_mmhg": 150, "dbp_mmhg": 95}, KNOWN),
        ({"on_antihypertensive": True, "sbp_mmhg": 128, "dbp_mmhg": 76}, KNOWN),
    ],
)
def test_hypertension_is_a_diabetes_risk_factor_only_when_recorded(rules_config, overrides, expected):
    # CDS 2020: "a history of hypertension or on antihypertensive treatment" (SPEC 13.5).
    result = assess_one(rules_config, age_years=30, **overrides)
    lines = resident_reasons(result, np.array([0]), None, rules_config, "zh")[0]  # type: ignore[arg-type]
    text = "\n".join(lines)
    assert (KNOWN in text) == (expected == KNOWN), text
    assert (RAISED in text) == (expected == RAISED), text
    if expected == KNOWN:
        assert "糖尿病高危因素：高血压或正在接受降压治疗 [糖尿病指南 2020]" in lines
    if expected == RAISED:
        assert any(line.startswith("糖尿病相关：血压升高（未确诊）") for line in lines)
        reading = f"{overrides['sbp_mmhg']:.0f}/{overrides['dbp_mmhg']:.0f} mmHg"
        assert text.count(reading) == 1, text  # the reading is shown, once
    # An unconfirmed raised BP is not the CDS criterion: alone (age 30), it does not make the diabetes flag.
    assert bool(result.guideline_high_risk["diabetes"][0]) == (expected == KNOWN)


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([_event(0, 40, kind="diagnosis", disease="hypertension")], KNOWN),
        ([_event(k, d, sbp_mmhg=150, dbp_mmhg=92) for k, d in enumerate((40, 26, 12))], KNOWN),  # confirmed
        ([_event(k, d, sbp_mmhg=150, dbp_mmhg=92) for k, d in enumerate((41, 26, 12))], RAISED),  # 29 days
        ([_event(k, d, sbp_mmhg=150, dbp_mmhg=92) for k, d in enumerate((26, 12))], RAISED),  # 2 of 3
    ],
)
def test_a_diagnosis_event_or_a_confirmed_hypertension_counts(rules_config, events, expected):
    result = _assess_events(rules_config, events, age_years=30, sbp_mmhg=None, dbp_mmhg=None, bp_date=None)
    text = "\n".join(resident_reasons(result, np.array([0]), None, rules_config, "en")[0])  # type: ignore[arg-type]
    assert ("hypertension or on antihypertensive treatment" in text) == (expected == KNOWN), text
    assert ("raised blood pressure (not diagnosed)" in text) == (expected == RAISED), text


# ------------------------------------------------------------------------------------------ counts name what they count


def _view(config: RiskConfig, lang: str = "zh", **overrides: object):  # type: ignore[no-untyped-def]
    return resident_view(assess_one(config, **overrides), 0, config, lang)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "lang", "said", "expected"),
    [
        ({"age_years": 60, "weight_kg": 70}, "zh", set(), "高血压高危因素 2 项：超重或肥胖、年龄≥55岁"),
        (
            {"age_years": 60, "weight_kg": 70},
            "en",
            set(),
            "2 hypertension risk factors (BPHS): overweight or obese (BMI or waist), age 55 or over",
        ),
        ({"age_years": 60, "weight_kg": 70}, "zh", {"htn_age"}, "高血压高危因素 2 项：超重或肥胖、年龄≥55岁"),
        ({"age_years": 60, "weight_kg": 70}, "zh", {"htn_age", "htn_overweight"}, None),  # both already said
        (
            {"age_years": 30, "high_salt_diet": True},
            "en",
            set(),
            "1 hypertension risk factor (BPHS): long-term high-salt diet",
        ),
        ({"age_years": 30}, "zh", set(), None),
    ],
)
def test_a_count_of_risk_factors_names_them(rules_config, overrides, lang, said, expected):
    result = assess_one(rules_config, **overrides)
    view = resident_view(result, 0, rules_config, lang)  # type: ignore[arg-type]
    met = {code for code, found in result.findings.items() if found[0]}
    count = sum(code in met for code in HYPERTENSION_COUNTED_CODES)
    text, _ = describe_risk("bphs_risk_count", float(count), view, findings=met, said=said)
    assert text == expected


def test_the_count_the_model_reads_is_the_one_the_reasons_name():
    columns = resident_columns(
        make_residents(
            [
                {"age_years": 60, "weight_kg": 70},
                {"age_years": 30, "alcohol_excess": True, "family_history_hypertension": True},
                {"age_years": 30},
            ]
        )
    )
    found = hypertension_findings(columns)
    named = sum(found[code].astype(float) for code in HYPERTENSION_COUNTED_CODES)
    np.testing.assert_array_equal(derived_features(columns)["bphs_risk_count"], named)
    assert not any(unit == "项" for _, _, _, unit, _, _ in FEATURES.values())  # no bare count left


# ------------------------------------------------------------------------------------------ body measures as themselves


@pytest.mark.parametrize(
    ("name", "value", "overrides", "expected"),
    [
        ("waist_to_height", 0.5625, {"weight_kg": 45, "waist_cm": 90}, "腰高比 0.56（2026-05-01），≥0.5"),
        ("waist_to_height", 0.50, {"waist_cm": 80}, "腰高比 0.50（2026-05-01），≥0.5"),
        ("waist_to_height", 0.49, {"waist_cm": 78.4}, None),
        ("waist_cm", 85, {"waist_cm": 85}, "腰围 85 cm（2026-05-01），达到女性中心性肥胖标准（≥85 cm）"),
        ("waist_cm", 84, {"waist_cm": 84}, None),
        ("waist_cm", 90, {"waist_cm": 90, "sex": "M"}, "腰围 90 cm（2026-05-01），达到男性中心性肥胖标准（≥90 cm）"),
        ("waist_cm", 89, {"waist_cm": 89, "sex": "M"}, None),
        (
            "central_obesity",
            1.0,
            {"waist_cm": 90, "weight_kg": 45},
            "腰围 90 cm（2026-05-01），达到女性中心性肥胖标准（≥85 cm）",
        ),
        ("bmi_kg_m2", 24.0, {"weight_kg": 61.44, "waist_cm": 95}, "体重指数 24.0 kg/m²（2026-05-01），超重（≥24）"),
        ("bmi_kg_m2", 23.9, {"weight_kg": 61.2, "waist_cm": 95}, None),
        ("bmi_category", 3.0, {"weight_kg": 71.68}, "体重指数 28.0 kg/m²（2026-05-01），肥胖（≥28）"),
        ("bmi_category", 0.0, {"weight_kg": 45, "waist_cm": 95}, None),  # underweight is never a risk
    ],
)
def test_waist_waist_to_height_and_bmi_are_each_named_as_themselves(rules_config, name, value, overrides, expected):
    # WS/T 428-2013 (BMI 24 / 28, waist 90 / 85); Ashwell 2012 (waist-to-height 0.5).
    text, _ = describe_risk(name, value, _view(rules_config, **overrides))
    assert text == expected


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_low_bmi_is_never_worded_as_a_risk(rules_config, lang):
    lines = _reasons(rules_config, lang, age_years=30, weight_kg=45, waist_cm=90)  # BMI 17.6, waist >= 85
    text = "\n".join(lines)
    assert "体重过低" not in text and "underweight" not in text and "体重指数" not in text and "BMI" not in text
    assert ("腰围 90 cm" if lang == "zh" else "waist 90 cm") in text


# ------------------------------------------------------------------------------------------ HbA1c 5.7-6.4


ADA_LINE = (
    "糖尿病高危因素：糖化血红蛋白 {v} %（2026-05-01），≥5.7 %，属糖尿病前期（美国糖尿病学会标准） "
    "[美国糖尿病学会诊疗标准 2024]"
)


@pytest.mark.parametrize(
    ("setting", "hba1c", "line", "tier"),
    [
        ({}, 5.7, None, 0),  # the default (cds2020, who): off
        ({}, 6.4, None, 0),
        ({"hba1c_prediabetes": True}, 5.6, None, 0),
        ({"hba1c_prediabetes": True}, 5.7, ADA_LINE.format(v="5.7"), 1),
        ({"hba1c_prediabetes": True}, 6.4, ADA_LINE.format(v="6.4"), 1),
        ({"criteria": "ada"}, 6.0, ADA_LINE.format(v="6.0"), 1),
    ],
)
def test_hba1c_prediabetes_only_where_configured_with_the_ada_reference(rules_config, setting, hba1c, line, tier):
    config = _with(rules_config, **setting)
    result = assess_one(config, age_years=30, hba1c_pct=hba1c)
    lines = resident_reasons(result, np.array([0]), None, config, "zh")[0]  # type: ignore[arg-type]
    assert result.tiers["diabetes"].tier[0] == tier
    assert [x for x in lines if "糖尿病前期" in x] == ([line] if line else [])


def test_the_english_ada_line_names_ada_not_cds(rules_config):
    lines = _reasons(_with(rules_config, hba1c_prediabetes=True), "en", age_years=30, hba1c_pct=6.0)
    line = "Diabetes risk factor: HbA1c 6.0 % (2026-05-01), at or above 5.7 %: prediabetes by the ADA criteria"
    assert f"{line} [ADA Standards of Care 2024]" in lines


@pytest.mark.parametrize(
    ("criteria", "fpg", "expected"),
    [
        ("who", 5.8, None),
        ("ada", 5.5, None),
        (
            "ada",
            5.6,
            "空腹血糖 5.6 mmol/L（2026-05-01），≥5.6 mmol/L，属糖尿病前期（美国糖尿病学会标准） "
            "[美国糖尿病学会诊疗标准 2024]",
        ),
        ("who", 6.1, "糖尿病前期（空腹血糖受损或糖耐量减低，含既往记录） [糖尿病指南 2020]"),
        ("ada", 6.1, "糖尿病前期（空腹血糖受损或糖耐量减低，含既往记录） [糖尿病指南 2020]"),
    ],
)
def test_a_prediabetic_fpg_names_the_source_of_its_range(rules_config, criteria, fpg, expected):
    lines = _reasons(_with(rules_config, criteria=criteria), age_years=30, fpg_mmol_l=fpg, hba1c_pct=None)
    found = [line for line in lines if "糖尿病前期" in line]
    assert found == ([f"糖尿病高危因素：{expected}"] if expected else [])


# ------------------------------------------------------------------------------------------ hidden actions

EMERGENCY = {"age_years": 50, "sbp_mmhg": 190, "dbp_mmhg": 115, "bp_date": "2026-06-28"}


def test_an_action_hidden_by_an_outcome_is_not_in_the_reasons(rules_config):
    result = assess_one(rules_config, **EMERGENCY)
    d, a = DISEASE_ORDER.index("hypertension"), ACTIONS.index("refer_now")
    assert result.actions.due[0, d, a]
    visible = result.actions.due.copy()
    visible[0, d, a] = False
    shown = resident_reasons(result, np.array([0]), None, rules_config, "zh")[0]  # type: ignore[arg-type]
    hidden = resident_reasons(result, np.array([0]), None, rules_config, "zh", visible=visible)[0]  # type: ignore[arg-type]
    assert any("紧急转诊" in line for line in shown)
    assert not any("紧急转诊" in line for line in hidden)
    assert "\n".join(hidden).count("190/115 mmHg") == 1  # the reading is still said, once, by the next action


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_referred_emergency_leaves_the_entry_and_its_reasons(rules_config, lang):
    residents = make_residents([EMERGENCY])
    columns = resident_columns(residents)
    effects = outcome_effects(
        [
            {
                "resident_id": residents["resident_id"].iloc[0],
                "disease": "hypertension",
                "action": "refer_now",
                "outcome": "referred",
                "recorded_on": dt.date(2026, 6, 29),
            }
        ],
        {residents["resident_id"].iloc[0]: 0},
        n=1,
        as_of=DAY,
        batch_as_of=DAY,
        config=rules_config,
    )
    state = apply_referrals(row_state(columns), effects)
    model = SimpleNamespace(version="stub", config=rules_config, screen_cuts=None)  # probabilities are given
    worklist = build_worklist(
        residents,
        model,  # type: ignore[arg-type]
        as_of=DAY,
        lang=lang,  # type: ignore[arg-type]
        config=rules_config,
        probabilities=probabilities_of(),
        state=state,
        hidden=effects.hidden | referral_hides(state, effects),
    )
    (entry,) = worklist.entries
    assert "refer_now" not in [action["action"] for action in entry["actions"]]
    assert worklist.counts["refer_now"]["hidden"] == 1
    text = "\n".join(entry["reasons"])
    assert ("紧急转诊" if lang == "zh" else "refer now") not in text, text


# ------------------------------------------------------------------------------------------ languages

RICH = {
    "sex": "M",
    "age_years": 62,
    "weight_kg": 80,
    "waist_cm": 95,
    "sbp_mmhg": 150,
    "dbp_mmhg": 86,
    "bp_date": "2026-06-20",
    "fpg_mmol_l": 6.3,
    "family_history_diabetes": True,
    "family_history_hypertension": True,
    "alcohol_excess": True,
    "high_salt_diet": True,
    "physically_active": False,
    "ascvd_history": True,
    "on_lipid_lowering": True,
    "tg_mmol_l": 2.5,
    "hdl_mmol_l": 0.8,
    "smoking": "current",
}
PEOPLE = [
    RICH,
    {**RICH, "age_years": 80},  # CDRS outside its validated ages
    {**RICH, "diagnosed_hypertension": True, "on_antihypertensive": True},
    {"age_years": 30, "sbp_mmhg": 125, "weight_kg": 45, "waist_cm": 90},
    EMERGENCY,
]


@pytest.mark.parametrize("person", PEOPLE)
def test_zh_reasons_are_chinese_and_en_reasons_have_no_chinese(rules_config, person):
    config = _with(rules_config, hba1c_prediabetes=True)
    zh = "\n".join(_reasons(config, "zh", **person))
    en = "\n".join(_reasons(config, "en", **person))
    assert not re.search(r"[A-Za-z]{2,}", ALLOWED_LATIN.sub("", zh)), zh
    assert not CJK.search(en), en
    assert "危急值" not in zh and "糖耐量异常" not in zh


def test_every_model_reason_reads_in_its_own_language(rules_config):
    names = [*FEATURES, *FLAGS, "smoking_code", "bphs_risk_count"]
    result = assess_one(rules_config, **RICH)
    met = {code for code, found in result.findings.items() if found[0]}
    for lang in ("zh", "en"):
        view = resident_view(result, 0, rules_config, lang)  # type: ignore[arg-type]
        said = []
        for name in names:
            for value in (0.0, 0.5, 1.0, 2.0, 3.0, 30.0, 200.0):
                text, _ = describe_risk(name, value, view, findings=met)
                if text is not None:
                    said.append(text)
        assert len({*said}) > 10
        text = "\n".join(said)
        if lang == "zh":
            assert not re.search(r"[A-Za-z]{2,}", ALLOWED_LATIN.sub("", text)), text
        else:
            assert not CJK.search(text), text
