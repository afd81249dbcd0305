"""Reasons a doctor can read, in Chinese or English (SPEC section 6).

Computed only for the residents on a list (or asked for with ``explain=true``), from an
:class:`~riskmodel.scoring.Assessment`:

1. every due action in words, most urgent first, with the values behind it and their dates;
2. a model-sourced tier says so (模型预测), with its probability;
3. the guideline findings, for the diseases the resident is not already managed for, each naming its disease
   (糖尿病高危因素 / Diabetes risk factor) and with its reference; a fact that two findings share (age, body
   size, BP) is stated once, naming both diseases;
4. the model's top contributions, only for features whose value pushes risk up (in words that match the
   value: a missing value, a protective value or an unremarkable one is never said to raise risk), and only
   for facts not already stated. Waist, waist-to-height ratio and BMI are each named as themselves; a count
   of risk factors names them.

Actions hidden by an outcome are not in the reasons (SPEC 13.5).

Every value carries its date; a value older than ``tiers.*_result_valid_days`` is marked stale.

The action lines are built in :mod:`riskmodel.worklist.action_reasons`, the values and dates they read in
:mod:`riskmodel.worklist.resident_view`, the words in :mod:`riskmodel.worklist.phrases`; this module adds the
tier, finding and model lines and puts one resident's reasons together.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.model.features import Disease, feature_matrix
from riskmodel.rules.actions import DISEASE_ORDER
from riskmodel.rules.guidelines.body_size import (
    BMI_OBESE_FROM,
    BMI_OVERWEIGHT_FROM,
    WAIST_TO_HEIGHT_HIGH,
)
from riskmodel.rules.guidelines.findings import (
    DIABETES_RISK_AGE_CDS2020,
    DIABETES_RISK_AGE_CDS2024,
    FINDINGS,
    HYPERTENSION_COUNTED_CODES,
    HYPERTENSION_RISK_AGE,
    finding_reference,
)
from riskmodel.rules.guidelines.glycaemia import (
    FPG_IFG_ADA_MMOL_L,
    FPG_IFG_WHO_MMOL_L,
    HBA1C_DIABETES_PCT,
    HBA1C_PREDIABETES_PCT,
)
from riskmodel.rules.tiers import MODEL
from riskmodel.worklist.action_reasons import action_sentence, bp_text, due_actions
from riskmodel.worklist.labels import (
    DISEASE_LABELS,
    SOURCE_LABELS,
    TIER_LABELS,
    Lang,
    pick,
    references,
)
from riskmodel.worklist.phrases import (
    BPHS_COUNT_WORDS,
    FEATURES,
    FINDING_FACTS,
    FINDING_HEADS,
    FLAGS,
    SEPARATORS,
    SMOKING_CURRENT,
)
from riskmodel.worklist.resident_view import ResidentView, resident_view

if TYPE_CHECKING:
    from riskmodel.model.tier_model import RiskModel
    from riskmodel.scoring import Assessment


# ------------------------------------------------------------------------------------------ tiers and findings


def tier_sentence(assessment: Assessment, i: int, disease: str, lang: Lang) -> str:
    """A model-sourced tier says so (模型预测), with the model's probability of the chronic tier."""
    tier = assessment.tiers[disease]
    name = ("healthy", "high_risk", "chronic")[tier.tier[i]]
    p = float(assessment.probabilities[disease][i, 2])
    if lang == "zh":
        return f"{pick(DISEASE_LABELS[disease], lang)}：{pick(SOURCE_LABELS['model'], lang)}为{pick(TIER_LABELS[name], lang)}（模型估计患病概率 {p:.0%}）"
    return f"{disease}: {TIER_LABELS[name][0]} by model prediction (estimated probability of {disease} {p:.0%})"


def _bmi_text(view: ResidentView) -> str:
    """The BMI where it is overweight or obese, with its date and cut-off; empty otherwise [WS/T 428-2013]."""
    bmi = view.values["bmi_kg_m2"]
    if np.isnan(bmi) or bmi < BMI_OVERWEIGHT_FROM:
        return ""
    obese = bmi >= BMI_OBESE_FROM
    cut = BMI_OBESE_FROM if obese else BMI_OVERWEIGHT_FROM
    if view.lang == "zh":
        return f"体重指数 {bmi:.1f} kg/m²{view.when('weight')}，{'肥胖' if obese else '超重'}（≥{cut:.0f}）"
    return f"BMI {bmi:.1f} kg/m²{view.when('weight')}, {'obese' if obese else 'overweight'} ({cut:.0f} or over)"


def _waist_text(view: ResidentView) -> str:
    """The waist where it meets the central-obesity cut-off, with its date; empty otherwise [WS/T 428-2013]."""
    waist, cut = view.values["waist_cm"], view.values["waist_cut"]
    if np.isnan(waist) or waist < cut:
        return ""
    zh = view.lang == "zh"
    sex = ("男性" if zh else "men") if view.values["is_male"] == 1.0 else ("女性" if zh else "women")
    if zh:
        return f"腰围 {waist:.0f} cm{view.when('waist')}，达到{sex}中心性肥胖标准（≥{cut:.0f} cm）"
    return f"waist {waist:.0f} cm{view.when('waist')}, central obesity for {sex} ({cut:.0f} cm or over)"


def _waist_to_height_text(ratio: float, view: ResidentView) -> str:
    """The waist-to-height ratio as itself, with the waist's date and the 0.5 cut-off (Ashwell 2012)."""
    if view.lang == "zh":
        return f"腰高比 {ratio:.2f}{view.when('waist')}，≥{WAIST_TO_HEIGHT_HIGH:g}"
    return f"waist-to-height ratio {ratio:.2f}{view.when('waist')}, {WAIST_TO_HEIGHT_HIGH:g} or over"


def _body_size(view: ResidentView) -> str:
    """The body-size criterion as met: the BMI if overweight or obese, the waist if centrally obese (never a
    low BMI: underweight is not a risk factor of these guidelines)."""
    parts = [text for text in (_bmi_text(view), _waist_text(view)) if text]
    return ("；" if view.lang == "zh" else "; ").join(parts)


def _body_facts(view: ResidentView) -> set[str]:
    """The body-size facts the body-size finding states (a model reason does not repeat them)."""
    return {fact for fact, text in (("bmi", _bmi_text(view)), ("waist", _waist_text(view))) if text}


def _raised_bp(view: ResidentView, stated: Collection[str]) -> str:
    """The raised reading behind ``dm_raised_bp``, unless an action line already gave it."""
    if "bp" in stated or np.isnan(view.values["sbp_mmhg"]):
        return ""
    v = view.values
    return f"{'，' if view.lang == 'zh' else ', '}{v['sbp_mmhg']:.0f}/{v['dbp_mmhg']:.0f} mmHg{view.when('bp')}"


def _ada_prediabetes(view: ResidentView) -> str:
    """The results in the ADA prediabetes ranges that are not WHO's: HbA1c 5.7-6.4 %, FPG 5.6-6.0 mmol/L."""
    zh = view.lang == "zh"
    hba1c, fpg = view.values["hba1c_pct"], view.values["fpg_mmol_l"]
    parts = []
    if HBA1C_PREDIABETES_PCT <= hba1c < HBA1C_DIABETES_PCT:
        parts.append(
            f"糖化血红蛋白 {hba1c:.1f} %{view.when('hba1c')}，≥{HBA1C_PREDIABETES_PCT} %"
            if zh
            else f"HbA1c {hba1c:.1f} %{view.when('hba1c')}, at or above {HBA1C_PREDIABETES_PCT} %"
        )
    if FPG_IFG_ADA_MMOL_L <= fpg < FPG_IFG_WHO_MMOL_L:
        parts.append(
            f"空腹血糖 {fpg:.1f} mmol/L{view.when('fpg')}，≥{FPG_IFG_ADA_MMOL_L} mmol/L"
            if zh
            else f"FPG {fpg:.1f} mmol/L{view.when('fpg')}, at or above {FPG_IFG_ADA_MMOL_L} mmol/L"
        )
    return SEPARATORS[view.lang].join(parts) or ("结果见档案" if zh else "see the record")


def finding_text(
    code: str,
    view: ResidentView,
    *,
    dm_age_cut: int = DIABETES_RISK_AGE_CDS2020,
    stated: Collection[str] = (),
) -> str:
    """One finding in words, with the resident's values and their dates filled in (``stated``: facts an action
    line already gave, not repeated)."""
    finding = FINDINGS[code]
    template = finding.zh if view.lang == "zh" else finding.en
    filled: dict[str, str] = {}  # only what the template names: body size and dates cost more than the rest
    if "{body_size" in template:
        filled["body_size"] = _body_size(view)
    if "{bp_when" in template:
        filled["bp_when"] = view.when("bp")
    if "{bp_raised" in template:
        filled["bp_raised"] = _raised_bp(view, stated)
    if "{ada_prediabetes" in template:
        filled["ada_prediabetes"] = _ada_prediabetes(view)
    return template.format(dm_age_cut=dm_age_cut, **filled, **view.values)


def finding_head(codes: Sequence[str], lang: Lang) -> str:
    """The head of a finding line: its diseases, and whether it is a risk factor (糖尿病、高血压高危因素)."""
    diseases = [d for d in DISEASE_ORDER if any(FINDINGS[code].disease == d for code in codes)]
    risk_factor = any(FINDINGS[code].risk_factor for code in codes)
    names = [pick(DISEASE_LABELS[d], lang) for d in diseases]
    head = pick(FINDING_HEADS[risk_factor], lang)
    if lang == "zh":
        return "、".join(names) + head
    joined = " and ".join(names)
    return f"{joined.capitalize()} {head}" if risk_factor else f"{head.capitalize()} to {joined}"


def _age_both(view: ResidentView, age_cut: int) -> str:
    age = view.values["age_years"]
    if view.lang == "zh":
        return f"年龄 {age:.0f} 岁（糖尿病≥{age_cut} 岁，高血压≥{HYPERTENSION_RISK_AGE} 岁）"
    return f"age {age:.0f} ({age_cut} or over for diabetes, {HYPERTENSION_RISK_AGE} or over for hypertension)"


def finding_sentences(
    assessment: Assessment,
    i: int,
    diseases: tuple[str, ...],
    view: ResidentView,
    profile: str,
    *,
    stated: Collection[str] = (),
) -> tuple[list[str], set[str]]:
    """The guideline findings met for the given diseases, each naming its disease, one fact once (diseases and
    references merged), and the facts stated (fact keys and finding codes).

    ``stated`` holds the facts the action lines gave (``bp``), not repeated here.
    """
    age_cut = DIABETES_RISK_AGE_CDS2024 if profile == "cds2024" else DIABETES_RISK_AGE_CDS2020
    groups: dict[str, list[str]] = {}
    for code, met in assessment.findings.items():
        if FINDINGS[code].disease in diseases and met[i]:
            groups.setdefault(FINDING_FACTS.get(code, code), []).append(code)
    sentences: list[str] = []
    facts: set[str] = set()
    sep = "：" if view.lang == "zh" else ": "
    for fact, codes in groups.items():
        if fact == "age" and len(codes) > 1:
            text = _age_both(view, age_cut)
        else:
            text = finding_text(codes[0], view, dm_age_cut=age_cut, stated=stated)
        refs = dict.fromkeys(ref for code in codes for ref in finding_reference(code, profile).split("; "))
        sentences.append(f"{finding_head(codes, view.lang)}{sep}{text} [{references('; '.join(refs), view.lang)}]")
        facts |= {fact, *codes}
    if "body_size" in groups:
        facts |= _body_facts(view)
    return sentences, facts


# ------------------------------------------------------------------------------------------ model


@dataclass(frozen=True)
class Contributions:
    """The model's per-feature contributions to P(chronic) for some residents (one row each), with the feature
    values they were computed from."""

    features: Sequence[str]
    values: np.ndarray
    contributions: np.ndarray
    order: np.ndarray
    """Per row, the feature indices from the largest contribution down."""

    def raising(self, k: int) -> Iterator[tuple[str, float]]:
        """Row ``k``'s features that push P(chronic) up, largest first, with their values; a missing value is
        left out (missingness is not a reason a doctor can act on)."""
        for j in self.order[k]:
            if self.contributions[k, j] <= 0:
                return
            value = float(self.values[k, j])
            if not np.isnan(value):
                yield self.features[j], value


def model_contributions(model: RiskModel, assessment: Assessment, rows: np.ndarray, disease: Disease) -> Contributions:
    """The disease model's feature contributions for the residents ``rows`` of an assessment."""
    fitted = model.disease(disease)
    columns = {name: values[rows] for name, values in assessment.columns.items()}
    derived = {name: values[rows] for name, values in assessment.derived.items()}
    matrix = feature_matrix(columns, disease, derived=derived)
    contributions = fitted.contributions(matrix)
    return Contributions(fitted.features, matrix, contributions, np.argsort(-contributions, axis=1))


def model_sentences(
    model: RiskModel,
    assessment: Assessment,
    rows: np.ndarray,
    disease: Disease,
    *,
    lang: Lang,
    top: int,
    stated: list[set[str]],
    views: list[ResidentView],
) -> list[list[str]]:
    """Per resident of ``rows``: up to ``top`` features pushing P(chronic) up whose values raise risk, in words.

    ``stated`` holds, per resident, the facts already said (a model reason never repeats them).
    """
    if top == 0 or len(rows) == 0:
        return [[] for _ in rows]
    computed = model_contributions(model, assessment, rows, disease)
    out: list[list[str]] = []
    disease_words = pick(DISEASE_LABELS[disease], lang)
    for k in range(len(rows)):
        words: list[str] = []
        said = stated[k]
        met = {code for code, found in assessment.findings.items() if found[rows[k]]}
        for name, value in computed.raising(k):
            if len(words) == top:
                break
            text, fact = describe_risk(name, value, views[k], findings=met, said=said)
            if text is None or fact in said:
                continue
            said.add(fact)
            words.append(
                f"{text}（模型提示增加{disease_words}风险）"
                if lang == "zh"
                else f"{text} (the model counts it towards {disease} risk)"
            )
        out.append(words)
    return out


def _risk_count(view: ResidentView, findings: Collection[str], said: Collection[str]) -> str | None:
    """The BPHS risk factors the model's ``bphs_risk_count`` counts, named (never a bare count); ``None``
    when none is met or every one was already stated [BPHS 2017]."""
    codes = [code for code in HYPERTENSION_COUNTED_CODES if code in findings]
    if not codes or all(code in said for code in codes):
        return None
    names = [pick(BPHS_COUNT_WORDS[code], view.lang) for code in codes]
    if view.lang == "zh":
        return f"高血压高危因素 {len(codes)} 项：{'、'.join(names)}"
    return f"{len(codes)} hypertension risk factor{'s' if len(codes) > 1 else ''} (BPHS): {', '.join(names)}"


def describe_risk(
    name: str,
    value: float,
    view: ResidentView,
    *,
    findings: Collection[str] = (),
    said: Collection[str] = (),
) -> tuple[str | None, str]:
    """A feature whose value raises risk, in words with its date; ``None`` when the value does not raise risk.

    Each body measure is named as itself (BMI, waist, waist-to-height ratio). A count of risk factors names
    the ones counted, from ``findings`` (the resident's finding codes), and is left out when ``said`` (facts
    and finding codes already stated) holds every one of them.
    """
    zh = view.lang == "zh"
    if name == "bphs_risk_count":
        return (_risk_count(view, findings, said) if value >= 1 else None), "bphs_count"
    if name in FLAGS:
        fact, risky, en, zh_text = FLAGS[name]
        return ((zh_text if zh else en) if value == risky else None), fact
    if name == "smoking_code":
        return (("目前吸烟" if zh else "current smoker") if value == SMOKING_CURRENT else None), "smoking"
    if name not in FEATURES:
        return None, name
    fact, en, zh_label, unit, decimals, raises = FEATURES[name]
    context = {**view.values}
    if not raises(value, context):
        return None, fact
    if fact == "bmi":
        return _bmi_text(view) or None, fact
    if fact == "waist":
        return _waist_text(view) or None, fact
    if fact == "whtr":
        return _waist_to_height_text(value, view), fact
    if name == "age_years":
        return (f"年龄 {value:.0f} 岁" if zh else f"age {value:.0f}"), fact
    when = view.when("bp") if fact == "bp" else view.when("exam") if fact.startswith("lipids") else ""
    shown = f"{value:.{decimals}f}"
    unit_text = f" {unit}" if unit else ""
    return (
        f"{zh_label} {shown}{unit_text}{when}"
        if zh
        else f"{en} {shown}{unit_text if unit not in ('分', '项') else ''}{when}"
    ), fact


# ------------------------------------------------------------------------------------------ one resident


def resident_reasons(
    assessment: Assessment,
    rows: np.ndarray,
    model: RiskModel,
    config: RiskConfig,
    lang: Lang,
    *,
    visible: np.ndarray | None = None,
) -> list[list[str]]:
    """The reasons of each resident in ``rows`` (SPEC 6), in the order the module docstring gives.

    ``visible`` (n, 2, n_actions), when given, marks the actions on the list: an action hidden by an outcome
    is not in the reasons (SPEC 13.5).
    """
    views = [resident_view(assessment, int(i), config, lang) for i in rows]
    reasons: list[list[str]] = []
    stated: list[set[str]] = []
    # Screening findings are for diseases still to be found: not for one managed, or already chronic.
    managed = {d: assessment.tiers[d].tier == 2 for d in DISEASE_ORDER}
    for k, i in enumerate(rows):
        i = int(i)
        said: set[str] = set()
        lines = [
            action_sentence(assessment, i, disease, code, views[k], said)
            for disease, code in due_actions(assessment, i)
            if visible is None or visible[i, DISEASE_ORDER.index(disease), code]
        ]
        bp = bp_text(views[k])  # the BP is stated when an action line shows it (not merely when it was at hand)
        facts = {"bp"} if bp and any(bp in line for line in lines) else set()
        for disease in DISEASE_ORDER:
            if assessment.tiers[disease].source[i] == MODEL:
                lines.append(tier_sentence(assessment, i, disease, lang))
        open_diseases = tuple(d for d in DISEASE_ORDER if not managed[d][i])
        found, found_facts = finding_sentences(
            assessment, i, open_diseases, views[k], config.glycaemia.high_risk_profile, stated=facts
        )
        lines += found
        reasons.append(lines)
        stated.append(facts | found_facts)
    top = config.worklist.top_features
    for disease in DISEASE_ORDER:
        model_rows = [k for k, i in enumerate(rows) if assessment.tiers[disease].source[int(i)] == MODEL]
        if not model_rows:
            continue
        words = model_sentences(
            model,
            assessment,
            np.asarray([int(rows[k]) for k in model_rows]),
            disease,  # type: ignore[arg-type]
            lang=lang,
            top=top,
            stated=[stated[k] for k in model_rows],
            views=[views[k] for k in model_rows],
        )
        for k, text in zip(model_rows, words, strict=True):
            reasons[k].extend(text)
    return reasons
