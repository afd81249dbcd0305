"""智能提醒 (SPEC 15): one short message per resident with a task due in the window, for the team's own SMS
or WeChat system to send.

A message says what to do, by when and where (the team's clinic, config ``reminders``), in at most
:data:`MAX_MESSAGE_CHARS` characters (one SMS), and never names a disease or a diagnosis: an SMS can be read
by anyone holding the phone. ``refer_now`` is left out (an emergency is a call, not a text). The outcome
``reminded`` hides the resident's reminder for ``reminders.hide_days`` days; what hides an action on the
list (agreed, declined, a removal, ...) hides it here too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from riskmodel.config import RiskConfig
from riskmodel.model.tier_model import RiskModel
from riskmodel.store.batches import ResultStore
from riskmodel.worklist.team import outcomes_as_of, team_worklist

MAX_MESSAGE_CHARS = 70
"""One SMS: 70 Chinese characters."""
REMINDED = "reminded"
NOT_TEXTED = ("refer_now",)
"""Actions never sent as a text: an emergency referral is a call."""
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
    "糖耐量减低",
    "糖尿病前期",
    "血压高",
    "血糖高",
    "高血糖",
    "异常",
    "并发症",
    "转诊",
)
"""Words a reminder never holds (checked on every message): a disease, a diagnosis or a finding."""

_TEST_TASKS = {
    "FPG": "空腹抽血查血糖",
    "OGTT": "空腹做糖耐量检查",
    "HbA1c": "抽血查糖化血红蛋白",
    "BP": "测量血压",
    "FPG, HbA1c": "空腹抽血查血糖",
}
_DISEASE_RECHECK = {"diabetes": "复查血糖", "hypertension": "复测血压"}
_DISEASE_VISIT = {"diabetes": "复诊随访", "hypertension": "复诊随访"}


def task_words(action: dict[str, Any]) -> str:
    """What the resident is asked to do for one action, in plain words without a diagnosis."""
    code, disease, tests = action["action"], action["disease"], action.get("tests") or ""
    if code == "screen":
        return _TEST_TASKS.get(tests, "做健康检查")
    if code in ("confirm_diagnosis", "recheck", "recheck_stale", "re_engage"):
        return (
            _TEST_TASKS.get(tests, _DISEASE_RECHECK[disease])
            if code == "confirm_diagnosis"
            else (_DISEASE_RECHECK[disease])
        )
    if code == "refer":
        return "复诊，医生将为您联系上级医院"
    if code == "referral_follow_up":
        return "告知上级医院就诊情况"
    if code == "first_followup":
        return "建立健康档案并随访"
    return _DISEASE_VISIT[disease]


def message(tasks: list[str], due: dt.date | None, clinic: str) -> str:
    """The reminder text: 您好，请于12月9日前到XX社区卫生服务中心复测血压。如已完成请忽略。 Shortened (politeness,
    then the second task) until it fits one SMS; ``due`` None: the task is already due (请尽快)."""
    when = f"请于{due.month}月{due.day}日前" if due is not None else "请尽快"
    for greeting, tail, count in (("您好，", "如已完成请忽略。", 2), ("您好，", "如已完成请忽略。", 1), ("", "", 1)):
        what = "并".join(dict.fromkeys(tasks[:count]))
        text = f"{greeting}{when}到{clinic}{what}。{tail}"
        if len(text) <= MAX_MESSAGE_CHARS:
            return text
    return text[: MAX_MESSAGE_CHARS - 1] + "。"


def team_reminders(
    store: ResultStore,
    team_id: str,
    model: RiskModel,
    *,
    today: dt.date,
    within_days: int = 7,
    as_of: dt.date | None = None,
    config: RiskConfig | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per resident with a task (other than ``refer_now``) due on or before the list date + ``within_days``
    and no ``reminded`` recorded in the last ``reminders.hide_days`` days: resident_id, due_date (the earliest
    due date, null when already due), the actions, and the message. Returns the reminders and the batch.
    ``today`` (resolved by the caller) dates the outcomes applied when no ``as_of`` is asked for."""
    config = config or model.config
    listing, batch = team_worklist(
        store, team_id, model, today=today, as_of=as_of, capacity=10_000_000, config=config, reasons=False
    )
    day = listing.as_of
    end = day + dt.timedelta(days=within_days)
    quiet = _recently_reminded(store, team_id, outcomes_as_of(batch, as_of, today), config.reminders.hide_days)
    clinic = config.reminders.clinic(team_id)
    out = []
    for entry in listing.entries:
        if entry["resident_id"] in quiet:
            continue
        actions = [
            a for a in entry["actions"] if a["action"] not in NOT_TEXTED and dt.date.fromisoformat(a["due_date"]) <= end
        ]
        if not actions:
            continue
        first_due = min(dt.date.fromisoformat(a["due_date"]) for a in actions)
        due = first_due if first_due >= day else None
        out.append(
            {
                "resident_id": entry["resident_id"],
                "grid_id": entry["grid_id"],
                "due_date": str(due) if due else None,
                "overdue": due is None,
                "actions": [
                    {"disease": a["disease"], "action": a["action"], "due_date": a["due_date"]} for a in actions
                ],
                "message": message([task_words(a) for a in actions], due, clinic),
            }
        )
    return out, {**batch, "list_date": str(day), "clinic": clinic}


def _recently_reminded(store: ResultStore, team_id: str, day: dt.date, hide_days: int) -> set[str]:
    since = day - dt.timedelta(days=hide_days - 1)
    return {
        row["resident_id"]
        for row in store.outcomes.for_team(team_id, since=since, until=day)
        if row["outcome"] == REMINDED
    }


__all__ = ["DIAGNOSIS_WORDS", "MAX_MESSAGE_CHARS", "REMINDED", "message", "task_words", "team_reminders"]
