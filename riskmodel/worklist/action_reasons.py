"""Due actions in words (SPEC 6 and 13): what, the values behind it with their dates, what to do and by when,
one builder per action, most urgent first. Part of the reasons of :mod:`riskmodel.worklist.explain`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from riskmodel.rules.actions import ACTIONS, DISEASE_ORDER, TESTS, last_contact
from riskmodel.rules.guidelines.blood_pressure import (
    DBP_EMERGENCY_MMHG,
    SBP_EMERGENCY_MMHG,
)
from riskmodel.rules.guidelines.glycaemia import (
    FPG_RECOMMEND_OGTT_MMOL_L,
    GLUCOSE_EMERGENCY_HIGH_MMOL_L,
    OGTT_2H_URGENT_MMOL_L,
)
from riskmodel.rules.tiers import DIABETES_CONFIRMING_RESULTS, HYPERTENSION_CONFIRMING_DAYS, pregnant_now
from riskmodel.worklist.labels import (
    ACTION_LABELS,
    DISEASE_LABELS,
    PROFILE_LABELS,
    Lang,
    label,
    pick,
    references,
)
from riskmodel.worklist.phrases import (
    GLUCOSE_NAMES,
    QUALIFYING_NAMES,
    RANDOM_GLUCOSE_NAMES,
    REPEAT_VERBS,
    SEPARATORS,
    STALE_GLUCOSE,
    TEST_VERBS,
)
from riskmodel.worklist.resident_view import ResidentView

if TYPE_CHECKING:
    from riskmodel.scoring import Assessment


def bp_text(view: ResidentView) -> str:
    """The BP with its date, as an action line shows it (empty when none is recorded)."""
    v = view.values
    if np.isnan(v["sbp_mmhg"]):
        return ""
    return f"{'血压' if view.lang == 'zh' else 'BP'} {v['sbp_mmhg']:.0f}/{v['dbp_mmhg']:.0f} mmHg{view.when('bp')}"


def glucose_text(view: ResidentView, *, random: bool = False) -> str:
    """The glucose results with their dates (with ``random``: the random glucose and the FPG)."""
    names = [RANDOM_GLUCOSE_NAMES, GLUCOSE_NAMES[0]] if random else list(GLUCOSE_NAMES)
    parts = [
        f"{zh if view.lang == 'zh' else en} {view.values[key]:.1f} {unit}{view.when(measure)}"
        for key, measure, en, zh, unit in names
        if not np.isnan(view.values[key])
    ]
    return SEPARATORS[view.lang].join(parts)


def _values(disease: str, view: ResidentView) -> str:
    return bp_text(view) if disease == "hypertension" else glucose_text(view)


def action_sentence(
    assessment: Assessment, i: int, disease: str, code: int, view: ResidentView, said: set[str] | None = None
) -> str:
    """One due action in words: what, the values behind it with their dates, what to do and by when."""
    zh = view.lang == "zh"
    d = DISEASE_ORDER.index(disease)
    actions = assessment.actions
    due = actions.due_date[i, d, code]
    late = int(actions.overdue_days[i, d, code])
    test = str(TESTS[actions.test[i, d, code]])
    confirmed = bool(assessment.tiers[disease].confirmed[i])
    name = ACTIONS[code]
    shown = "record_diagnosis" if name == "confirm_diagnosis" and confirmed else name
    head = (
        f"{pick(DISEASE_LABELS[disease], view.lang)}·{label(ACTION_LABELS, shown, view.lang)}："
        if zh
        else (f"{DISEASE_LABELS[disease][0]}, {ACTION_LABELS[shown][0]}: ")
    )
    profile = pick(PROFILE_LABELS[assessment.control_profile], view.lang)
    said = set() if said is None else said
    values = "" if f"values_{disease}" in said else _values(disease, view)
    if values or name in ("refer_now", "confirm_diagnosis", "refer", "recheck"):
        said.add(f"values_{disease}")
    body = _ACTION_TEXT[name](
        assessment, i, disease, view, test=test, due=due, profile=profile, confirmed=confirmed, values=values
    )
    text, _, reference = body.rpartition(" [")
    if late > 0:
        text += f"，已逾期 {late} 天" if zh else f"; {late} days overdue"
    return f"{head}{text} [{references(reference.rstrip(']'), view.lang)}]"


def _refer_now(assessment: Assessment, i: int, disease: str, view: ResidentView, **_: Any) -> str:
    zh = view.lang == "zh"
    state = assessment.state
    signs = state[f"{disease}_emergency_date"][i]
    pregnant = bool(pregnant_now({k: state[k][i : i + 1] for k in ("pregnant", "pregnant_date")}, view.as_of)[0])
    parts = []
    if disease == "hypertension":
        if view.values["sbp_mmhg"] >= SBP_EMERGENCY_MMHG or view.values["dbp_mmhg"] >= DBP_EMERGENCY_MMHG:
            parts.append(bp_text(view) + ("，≥180/110 mmHg" if zh else ", at or above 180/110 mmHg"))
        elif pregnant and bp_text(view):
            parts.append(
                bp_text(view) + ("，妊娠期血压≥140/90 mmHg" if zh else ", at or above 140/90 mmHg in pregnancy")
            )
    else:
        glucose = glucose_text(view, random=True)
        if glucose:
            parts.append(
                glucose + (("，妊娠期血糖高于正常" if zh else ", above normal in pregnancy") if pregnant else "")
            )
    if not np.isnat(signs):
        parts.append(f"随访发现急症表现（{signs}）" if zh else f"emergency signs seen on {signs}")
    what = SEPARATORS[view.lang].join(parts)
    return f"{what}：立即转诊 [BPHS 2017]" if zh else f"{what}: refer now [BPHS 2017]"


def qualifying_results(assessment: Assessment, i: int, disease: str, lang: Lang) -> list[str]:
    """The qualifying results behind a confirmation, oldest first, each with its date (SPEC 13.5)."""
    state = assessment.state
    shown = []
    for k in (3, 2, 1):
        day = state[f"{disease}_q{k}_date"][i]
        if np.isnat(day):
            continue
        v1, v2 = state[f"{disease}_q{k}_v1"][i], state[f"{disease}_q{k}_v2"][i]
        if disease == "hypertension":
            shown.append(f"{day} {v1:.0f}/{v2:.0f}")
        else:
            en, zh, unit = QUALIFYING_NAMES.get(int(v2), QUALIFYING_NAMES[1])
            shown.append(f"{zh} {v1:.1f} {unit}（{day}）" if lang == "zh" else f"{en} {v1:.1f} {unit} ({day})")
    return shown


def _confirm(
    assessment: Assessment,
    i: int,
    disease: str,
    view: ResidentView,
    *,
    test: str,
    due: Any,
    confirmed: bool,
    values: str,
    **_: Any,
) -> str:
    zh = view.lang == "zh"
    state = assessment.state
    measured_chronic = assessment.tiers[disease].tier[i] == 2
    if disease == "diabetes" and not measured_chronic:
        return _confirm_random_glucose(view, test=test, due=due)
    count = int(state[f"{disease}_confirmations"][i])
    if disease == "hypertension":
        needed, unit_zh, unit_en = HYPERTENSION_CONFIRMING_DAYS, "非同日血压读数", "BP reading"
        reference = "Chinese hypertension guideline 2018"
    else:
        needed, unit_zh, unit_en = DIABETES_CONFIRMING_RESULTS, "达到诊断标准的结果", "qualifying result"
        reference = "CDS 2020"
    shown = min(max(count, 1), needed)
    readings = qualifying_results(assessment, i, disease, view.lang)
    listed = (f"：{'，'.join(readings)}" if zh else f": {', '.join(readings)}") if len(readings) > 1 else ""
    if confirmed:
        return (
            f"已满足确诊条件 {shown}/{needed}：{'，'.join(readings) or values}；尚未登记诊断：登记诊断并纳入慢病管理 [{reference}]"
            if zh
            else f"the diagnosis is confirmed ({unit_en} {shown} of {needed}: {', '.join(readings) or values}) but not "
            f"recorded: record the diagnosis and start management [{reference}]"
        )
    values = values or ("上述读数" if zh else "the same reading")
    urgent = disease == "diabetes" and view.values["ogtt_2h_mmol_l"] >= OGTT_2H_URGENT_MMOL_L and view.is_fresh("ogtt")
    test_words = label(REPEAT_VERBS, test, view.lang)
    window = int(state.get(f"{disease}_series_lapsed", np.zeros(i + 1))[i]) == 1
    if zh:
        if window:
            head = f"{values}，确诊系列已超过28天，需重新测量（{shown}/{needed}）{listed}"
        else:
            head = f"{values}，达到诊断标准，尚未确诊（{unit_zh} {shown}/{needed} 次{listed}）"
        text = f"{head}：请于 {due} 前{test_words}"
        return text + ("（糖负荷后2小时血糖≥16.7 mmol/L，应尽快复查）" if urgent else "") + f" [{reference}]"
    if window:
        head = (
            f"{values}; the confirmation series ran past 28 days and restarts ({unit_en} {shown} of {needed}){listed}"
        )
    else:
        head = f"{values} in the diagnostic range, not yet confirmed ({unit_en} {shown} of {needed}{listed})"
    text = f"{head}: {test_words} by {due}"
    return text + (" (OGTT 2-h glucose at or above 16.7 mmol/L: urgent)" if urgent else "") + f" [{reference}]"


def _confirm_random_glucose(view: ResidentView, *, test: str, due: Any) -> str:
    """A random glucose >= 11.1 without typical symptoms: confirm with a fasting glucose or HbA1c [CDS 2020]."""
    value = view.values["random_glucose_mmol_l"]
    test_words = label(REPEAT_VERBS, test, view.lang)
    if view.lang == "zh":
        return (
            f"随机血糖 {value:.1f} mmol/L{view.when('random_glucose')}，≥11.1 mmol/L，未记录典型“三多一少”症状："
            f"请于 {due} 前{test_words}以明确诊断 [CDS 2020]"
        )
    return (
        f"random glucose {value:.1f} mmol/L{view.when('random_glucose')}, at or above 11.1 mmol/L without typical "
        f"symptoms recorded: {test_words} by {due} to confirm [CDS 2020]"
    )


def _refer(
    assessment: Assessment, i: int, disease: str, view: ResidentView, *, profile: str, values: str, **_: Any
) -> str:
    zh = view.lang == "zh"
    state = assessment.state
    visits = int(np.nan_to_num(state[f"{disease}_uncontrolled_visits"][i]))
    complication = state[f"{disease}_complication_date"][i]
    parts = []
    if visits >= 2:
        last = state[f"{disease}_uncontrolled_date"][i]
        when = f"，最近一次 {last}" if not np.isnat(last) else ""
        parts.append(
            f"连续 {visits} 次随访控制不满意（{profile}{when}）"
            if zh
            else f"{visits} consecutive uncontrolled follow-ups ({profile}{', latest ' + str(last) if not np.isnat(last) else ''})"
        )
    if not np.isnat(complication):
        parts.append(
            f"随访（{complication}）发现新发并发症或药物不良反应持续存在"
            if zh
            else f"a new complication, or an adverse reaction still present, at the follow-up on {complication}"
        )
    if values:
        parts.append(values)
    what = SEPARATORS[view.lang].join(parts)
    return (
        f"{what}：转诊，并于 14 天内随访转诊情况 [BPHS 2017]"
        if zh
        else f"{what}: refer, and follow the referral up within 14 days [BPHS 2017]"
    )


def _referral_follow_up(assessment: Assessment, i: int, disease: str, view: ResidentView, **_: Any) -> str:
    sent = assessment.state[f"{disease}_referral_sent_date"][i]
    if view.lang == "zh":
        return f"转诊已于 {sent} 发出，尚无到达或返回记录：随访转诊情况 [BPHS 2017]"
    return f"referral sent on {sent}, not yet recorded as arrived or returned: follow it up [BPHS 2017]"


def _recheck(
    assessment: Assessment,
    i: int,
    disease: str,
    view: ResidentView,
    *,
    test: str,
    due: Any,
    profile: str,
    values: str,
    **_: Any,
) -> str:
    zh = view.lang == "zh"
    state = assessment.state
    followup = state[f"{disease}_uncontrolled_date"][i]
    reaction = state[f"{disease}_adverse_date"][i]
    treated = state[f"{disease}_treated"][i] == 1.0
    test_words = label(REPEAT_VERBS, test, view.lang)
    if not np.isnat(reaction) and (np.isnat(followup) or reaction >= followup):
        if zh:
            return f"随访（{reaction}）发现药物不良反应：调整用药，请于 {due} 前再次随访 [BPHS 2017]"
        return (
            f"adverse drug reaction at the follow-up on {reaction}: adjust the drug and follow up by {due} [BPHS 2017]"
        )
    when = (
        (f"最近一次随访（{followup}）" if zh else f"the follow-up on {followup}")
        if not np.isnat(followup)
        else ("最近一次测量" if zh else "the latest reading")
    )
    # An untreated patient is never told to adjust a treatment they do not have (SPEC 13.3).
    plan_zh = "调整治疗" if treated else "加强生活方式干预并评估是否启动药物治疗"
    plan_en = "adjust treatment" if treated else "reinforce lifestyle measures and consider starting drug treatment"
    if zh:
        shown = f"：{values}；" if values else "："
        return f"{when}控制不满意（{profile}）{shown}{plan_zh}，请于 {due} 前{test_words} [BPHS 2017]"
    shown = f": {values}; " if values else ": "
    return f"{when} was uncontrolled ({profile}){shown}{plan_en} and {test_words} by {due} [BPHS 2017]"


def _follow_up_overdue(assessment: Assessment, i: int, disease: str, view: ResidentView, **_: Any) -> str:
    state = assessment.state
    seen = state[f"{disease}_last_face_to_face_date"][i]
    last = state[f"{disease}_last_followup_date"][i]
    zh = view.lang == "zh"
    if np.isnat(seen) and np.isnat(last):
        return (
            "无随访记录：安排面对面随访 [BPHS 2017]"
            if zh
            else "no follow-up recorded: arrange a face-to-face follow-up [BPHS 2017]"
        )
    remote = not np.isnat(last) and (np.isnat(seen) or last > seen)
    if zh:
        head = f"上次面对面随访 {seen}，已超过 90 天" if not np.isnat(seen) else "无面对面随访记录"
        tail = f"（其后仅有电话/网络随访，最近 {last}）" if remote else ""
        return f"{head}{tail}：安排面对面随访 [BPHS 2017]"
    head = (
        f"last face-to-face follow-up on {seen}, more than 90 days ago"
        if not np.isnat(seen)
        else "no face-to-face follow-up recorded"
    )
    tail = f" (only phone or online follow-ups since, latest {last})" if remote else ""
    return f"{head}{tail}: arrange a face-to-face follow-up [BPHS 2017]"


def _recheck_stale(
    assessment: Assessment, i: int, disease: str, view: ResidentView, *, test: str, due: Any, **_: Any
) -> str:
    """An abnormal result past its validity, or an emergency-level reading with nothing since (SPEC 13.1)."""
    zh = view.lang == "zh"
    lookback = int(view.valid_days.get("emergency", 30))
    parts, emergency = [], False
    if disease == "hypertension":
        reading = bp_text(view)
        emergency = view.values["sbp_mmhg"] >= SBP_EMERGENCY_MMHG or view.values["dbp_mmhg"] >= DBP_EMERGENCY_MMHG
        if reading:
            parts.append(reading)
    else:
        for key, measure, en, zh_name, unit, threshold in STALE_GLUCOSE:
            value = view.values[key]
            if np.isnan(value) or value < threshold:
                continue
            parts.append(f"{zh_name if zh else en} {value:.1f} {unit}{view.when(measure)}")
            emergency = emergency or (
                key in ("fpg_mmol_l", "random_glucose_mmol_l") and value >= GLUCOSE_EMERGENCY_HIGH_MMOL_L
            )
    what = SEPARATORS[view.lang].join(parts)
    test_words = label(REPEAT_VERBS, test, view.lang)
    if emergency and zh:
        return f"{what}，达紧急转诊水平，尚无后续读数（已超过 {lookback} 天）：请于 {due} 前{test_words} [BPHS 2017]"
    if emergency:
        return f"{what}: at the emergency level, with no later reading (over {lookback} days ago): {test_words} by {due} [BPHS 2017]"
    if zh:
        return f"{what}，既往异常结果已过期，其后无新结果：请于 {due} 前{test_words} [BPHS 2017]"
    return f"{what}: an abnormal result now out of date, with no later result: {test_words} by {due} [BPHS 2017]"


def _first_followup(assessment: Assessment, i: int, disease: str, view: ResidentView, *, due: Any, **_: Any) -> str:
    diagnosed = assessment.state[f"{disease}_diagnosis_date"][i]
    if view.lang == "zh":
        return f"{diagnosed} 新诊断，尚无随访：请于 {due} 前完成首次面对面随访，纳入慢病管理 [BPHS 2017]"
    return f"newly diagnosed on {diagnosed}, no follow-up yet: first face-to-face follow-up by {due} to start management [BPHS 2017]"


def _re_engage(assessment: Assessment, i: int, disease: str, view: ResidentView, *, due: Any, **_: Any) -> str:
    last = last_contact(assessment.state, disease)[i]
    when = str(last) if not np.isnat(last) else ("无记录" if view.lang == "zh" else "none recorded")
    if view.lang == "zh":
        return f"原待办任务已超过一年，其后无任何记录（最近一次记录 {when}）：重新联系并复测 [BPHS 2017]"
    return f"the task is more than a year old with nothing recorded since (last record {when}): re-engage and recheck [BPHS 2017]"


def _screen(assessment: Assessment, i: int, disease: str, view: ResidentView, *, test: str, **_: Any) -> str:
    zh = view.lang == "zh"
    test_words = label(TEST_VERBS, test, view.lang)
    dates = [view.dates[m] for m in (("bp",) if disease == "hypertension" else ("fpg", "ogtt", "hba1c"))]
    dated = [d for d in dates if d is not None and not np.isnat(d)]
    last = max(dated) if dated else None
    fpg = view.values["fpg_mmol_l"]
    why = ""
    if test == "OGTT" and not np.isnan(fpg) and fpg >= FPG_RECOMMEND_OGTT_MMOL_L:
        why = (
            f"（上次空腹血糖 {fpg:.1f} mmol/L，{view.note('fpg')}，≥5.6 mmol/L）"
            if zh
            else f" (last FPG {fpg:.1f} mmol/L, {view.note('fpg')}, at or above 5.6 mmol/L)"
        )
    elif test == "OGTT":
        why = "（糖尿病风险评分≥25分）" if zh else " (diabetes risk score 25 or more)"
    reference = "CDS 2020" if disease == "diabetes" else "BPHS 2017"
    if last is None:
        return (
            f"从未检测，建议{test_words}{why} [{reference}]" if zh else f"never tested: {test_words}{why} [{reference}]"
        )
    return (
        f"上次检测 {last}，已到复查间隔，建议{test_words}{why} [{reference}]"
        if zh
        else f"last tested on {last}, the interval has passed: {test_words}{why} [{reference}]"
    )


_ACTION_TEXT: dict[str, Callable[..., str]] = {
    "refer_now": _refer_now,
    "confirm_diagnosis": _confirm,
    "refer": _refer,
    "referral_follow_up": _referral_follow_up,
    "recheck": _recheck,
    "follow_up_overdue": _follow_up_overdue,
    "screen": _screen,
    "recheck_stale": _recheck_stale,
    "first_followup": _first_followup,
    "re_engage": _re_engage,
}


def due_actions(assessment: Assessment, i: int) -> list[tuple[str, int]]:
    """Resident ``i``'s due actions as (disease, action index), most urgent first."""
    priority = assessment.actions.priority[i]
    due = [
        (priority[d, a], -d, DISEASE_ORDER[d], a)
        for d in range(2)
        for a in range(len(ACTIONS))
        if assessment.actions.due[i, d, a]
    ]
    return [(disease, a) for _, _, disease, a in sorted(due, reverse=True)]
