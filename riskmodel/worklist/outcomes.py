"""Outcomes close the loop (SPEC 6): what the team recorded hides, removes, or starts tracking an action.

Outcomes are facts, lists are views: outcomes are appended to the store and never changed; what a list hides
on a given as-of date is computed here from every outcome recorded on or before it. An outcome takes effect
on its ``recorded_on`` date; ``hidden_until`` is the first day the action shows again.

========================  =============================================================================
outcome                   effect
========================  =============================================================================
``agreed``                hides the action for ``outcomes.snooze_days.agreed`` days (7)
``call_later``            30 days
``unreachable``           1 day; three within 30 days flag the entry ``unreachable_3x``
``declined``              90 days; a reason is required
``not_confirmed``         fits ``confirm_diagnosis`` / ``recheck_stale``: 365 days, a reason required; a
                          completed confirmation stops standing (the tier follows the newest reading)
``done``                  until a batch dated after the outcome (if that batch still has the action due,
                          the record was not updated, and it shows again); at most 30 days
``referred``              fits ``refer`` / ``refer_now``: hides them and starts ``referral_follow_up``, due
                          14 days after, until ``referral_arrived`` / ``referral_returned``
``moved``, ``died``,      remove the resident from the lists until ``reinstate``
``transferred``
``reminded``              about the resident: a reminder was sent; hides their reminder (not the list's
                          actions) for ``reminders.hide_days`` days (7; SPEC 15)
========================  =============================================================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.rules.actions import ACTIONS, DISEASE_ORDER, REFERRAL_FOLLOW_UP_DAYS

SNOOZES = ("agreed", "call_later", "unreachable", "declined", "not_confirmed")
REMOVALS = ("moved", "died", "transferred")
NOTICES = ("reminded",)
"""Outcomes that record a contact with the resident without changing the list (SPEC 15)."""
OUTCOMES = (
    *SNOOZES,
    "done",
    "referred",
    "referral_arrived",
    "referral_returned",
    *REMOVALS,
    "reinstate",
    *NOTICES,
)
RESIDENT_OUTCOMES = (*REMOVALS, "reinstate", *NOTICES)
"""Outcomes about the resident (every action): ``disease`` and ``action`` may be left out."""
FITS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys((*SNOOZES, "done"), ACTIONS),
    "not_confirmed": ("confirm_diagnosis", "recheck_stale"),
    "referred": ("refer", "refer_now"),
    "referral_arrived": ("referral_follow_up",),
    "referral_returned": ("referral_follow_up",),
}
"""Which outcomes fit which actions (SPEC 6); a code that does not fit is refused."""
UNREACHABLE_FLAG = "unreachable_3x"


class OutcomeError(ValueError):
    """An outcome that cannot be recorded; ``status`` is the HTTP status that says why (404, 409, 422)."""

    def __init__(self, message: str, *, status: int, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


def check_fits(outcome: str, action: str | None, disease: str | None, reason: str | None) -> None:
    """Raise :class:`OutcomeError` (422) when the outcome does not fit the action, or lacks what it needs."""
    if outcome in RESIDENT_OUTCOMES:
        return
    if action is None or disease is None:
        raise OutcomeError(f"{outcome} needs the disease and the action it answers", status=422, field="action")
    if action not in FITS[outcome]:
        raise OutcomeError(
            f"{outcome} does not fit {action} (it fits {', '.join(FITS[outcome])})", status=422, field="outcome"
        )
    if outcome in ("declined", "not_confirmed") and not (reason or "").strip():
        raise OutcomeError(f"{outcome} needs a reason", status=422, field="reason")


def hidden_until(outcome: str, recorded_on: dt.date, config: RiskConfig) -> dt.date | None:
    """The first day the action shows again (``None``: no fixed end)."""
    days = config.outcomes.snooze_days
    if outcome in SNOOZES:
        return recorded_on + dt.timedelta(days=getattr(days, outcome))
    if outcome == "done":
        return recorded_on + dt.timedelta(days=config.outcomes.done_max_days)
    if outcome in NOTICES:
        return recorded_on + dt.timedelta(days=config.reminders.hide_days)
    return None


@dataclass(frozen=True)
class OutcomeEffects:
    """What a team's outcomes do to a list as of a date, per resident position."""

    hidden: np.ndarray  # (n, 2, 7) actions hidden
    removed: dict[int, str]  # position -> the removal outcome in force
    flags: dict[int, list[str]]  # position -> flags (unreachable_3x)
    referral_sent: np.ndarray  # (n, 2) datetime64[D]: referral tracking started by an outcome (NaT: none)
    referral_closed: np.ndarray  # (n, 2) datetime64[D]: the newest arrival/return recorded
    not_confirmed: np.ndarray  # (n, 2) bool: a not_confirmed outcome in force


def outcome_effects(
    outcomes: Iterable[Mapping[str, Any]],
    positions: Mapping[str, int],
    *,
    n: int,
    as_of: dt.date,
    batch_as_of: dt.date,
    config: RiskConfig,
) -> OutcomeEffects:
    """The effects on a list as of ``as_of`` of outcomes (each with resident_id, disease, action, outcome,
    recorded_on), for the residents at ``positions``; outcomes recorded after ``as_of`` have none."""
    hidden = np.zeros((n, 2, len(ACTIONS)), dtype=bool)
    removal: dict[int, tuple[dt.date, str]] = {}
    unreachable: dict[int, int] = {}
    nat = np.datetime64("NaT")
    sent = np.full((n, 2), nat, dtype="datetime64[D]")
    closed = np.full((n, 2), nat, dtype="datetime64[D]")
    refuted = np.zeros((n, 2), dtype=bool)
    window = config.outcomes.unreachable_flag_days
    ordered = sorted(outcomes, key=lambda o: (o["recorded_on"], str(o.get("recorded_at") or "")))
    for outcome in ordered:
        i = positions.get(outcome["resident_id"])
        on = outcome["recorded_on"]
        if i is None or on > as_of:
            continue
        code = outcome["outcome"]
        if code in NOTICES:
            continue
        if code in RESIDENT_OUTCOMES:
            removal[i] = (on, code)
            continue
        d = DISEASE_ORDER.index(outcome["disease"])
        a = ACTIONS.index(outcome["action"])
        until = hidden_until(code, on, config)
        if code in SNOOZES and until is not None and as_of < until:
            hidden[i, d, a] = True
            refuted[i, d] |= code == "not_confirmed"
        if code == "done" and until is not None and as_of < until and batch_as_of <= on:
            hidden[i, d, a] = True
        if code == "unreachable" and (as_of - on).days < window:
            unreachable[i] = unreachable.get(i, 0) + 1
        if code == "referred":
            sent[i, d] = np.datetime64(on, "D")
        if code in ("referral_arrived", "referral_returned"):
            closed[i, d] = np.datetime64(on, "D")
    removed = {i: code for i, (_, code) in removal.items() if code != "reinstate"}
    for i in removed:
        hidden[i] = True
    flags = {
        i: [UNREACHABLE_FLAG] for i, count in unreachable.items() if count >= config.outcomes.unreachable_flag_count
    }
    return OutcomeEffects(hidden, removed, flags, sent, closed, refuted)


def apply_referrals(state: Mapping[str, np.ndarray], effects: OutcomeEffects) -> dict[str, np.ndarray]:
    """The state with referral tracking from outcomes: a ``referred`` opens it (``referral_follow_up`` due 14
    days later) unless an arrival or return was recorded on or after it; an arrival or return recorded on or
    after a referral event's sending closes that one too."""
    out = dict(state)
    for d, disease in enumerate(DISEASE_ORDER):
        name = f"{disease}_referral_sent_date"
        current = state[name].astype("datetime64[D]")
        from_outcome = effects.referral_sent[:, d]
        newest = np.where(np.isnat(current) | (from_outcome > current), from_outcome, current)
        closed = effects.referral_closed[:, d]
        still_open = np.isnat(closed) | (closed < newest)
        out[name] = np.where(still_open, newest, np.datetime64("NaT")).astype("datetime64[D]")
    return out


def apply_not_confirmed(state: Mapping[str, np.ndarray], effects: OutcomeEffects) -> dict[str, np.ndarray]:
    """The state with the confirmations a ``not_confirmed`` outcome answered set aside: the completed series
    no longer stands, and the tier follows the newest reading (SPEC 13.2)."""
    out = dict(state)
    for d, disease in enumerate(DISEASE_ORDER):
        name = f"{disease}_confirmations"
        out[name] = np.where(effects.not_confirmed[:, d], 0.0, state[name])
    return out


def referral_hides(state: Mapping[str, np.ndarray], effects: OutcomeEffects) -> np.ndarray:
    """While a referral started by an outcome is open, the ``refer`` / ``refer_now`` it answered are hidden; once
    it arrived or returned, a ``refer`` made by follow-ups before that stays answered (one episode, SPEC 13.3)."""
    hidden = np.zeros_like(effects.hidden)
    for d, disease in enumerate(DISEASE_ORDER):
        open_referral = ~np.isnat(state[f"{disease}_referral_sent_date"]) & ~np.isnat(effects.referral_sent[:, d])
        for code in ("refer", "refer_now"):
            hidden[:, d, ACTIONS.index(code)] = open_referral
        closed = effects.referral_closed[:, d]
        made = _newest_date(state[f"{disease}_uncontrolled_date"], state[f"{disease}_complication_date"])
        answered = ~np.isnat(closed) & ~np.isnat(made) & ~(made > closed)
        hidden[:, d, ACTIONS.index("refer")] |= answered
    return hidden


def _newest_date(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(np.isnat(a) | (b > a), b, a).astype("datetime64[D]")


__all__ = [
    "FITS",
    "NOTICES",
    "OUTCOMES",
    "REFERRAL_FOLLOW_UP_DAYS",
    "OutcomeEffects",
    "OutcomeError",
    "apply_not_confirmed",
    "apply_referrals",
    "check_fits",
    "hidden_until",
    "outcome_effects",
    "referral_hides",
]
