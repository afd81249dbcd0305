"""What a resident's follow-ups, referrals and reactions say, per disease (SPEC 2.2 and 13.3).

:func:`followup_counts` reads the follow-ups (the newest, the face-to-face ones in the last 365 days,
registration), emergency signs, referrals (sent, open, returned), treatment and pregnancy as the newest event
that records them. :func:`uncontrolled_streak` counts the uncontrolled follow-ups back from the newest, under
the configured control profile (:func:`riskmodel.rules.guidelines.bp_controlled` and
:func:`~riskmodel.rules.guidelines.glucose_controlled`, the rule the indicators' 控制率 states in SQL);
:func:`reactions` reads a complication or a repeated adverse reaction at the newest follow-up. The last two
count only follow-ups after a referral's newest return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.records.history import DISEASE_NAMES
from riskmodel.records.queries import FACE_TO_FACE, FOLLOWUPS_WINDOW_DAYS
from riskmodel.records.timeline import MODES, NO_DAY, REFERRAL_STATUSES, Timeline, last_in_group
from riskmodel.rules.guidelines.blood_pressure import bp_controlled
from riskmodel.rules.guidelines.glycaemia import glucose_controlled

_FACE_TO_FACE_CODES = [MODES.index(mode) for mode in FACE_TO_FACE]


def _when(condition: np.ndarray, day: np.ndarray) -> np.ndarray:
    return np.where(condition, day, NO_DAY)


def _stacked(reduce: Callable[[np.ndarray], np.ndarray], masks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One reduction of the timeline over several masks at once (one call for all of them)."""
    return dict(zip(masks, reduce(np.stack(list(masks.values()))), strict=True))


def _masks(timeline: Timeline, as_of: dt.date) -> dict[str, dict[str, np.ndarray]]:
    """The events each follow-up column reads, by the reduction it takes (newest, earliest, count, last)."""
    window_start = (np.datetime64(as_of, "D") - np.timedelta64(FOLLOWUPS_WINDOW_DAYS, "D")).astype(np.int64)
    face_to_face = np.isin(timeline.coded["mode"], _FACE_TO_FACE_CODES)
    unset = np.isnan(timeline.coded["disease"])
    status = timeline.coded["referral_status"]
    followup, diagnosis = timeline.is_kind("followup"), timeline.is_kind("diagnosis")
    referral, emergency = timeline.is_kind("referral"), timeline.is_true("emergency_signs")
    says = diagnosis | followup | timeline.is_true("on_treatment")  # records the disease, where it names one
    masks: dict[str, dict[str, np.ndarray]] = {"newest": {}, "earliest": {}, "count": {}, "last": {}}
    for d in DISEASE_NAMES:
        mine = timeline.of_disease(d)
        seen, referred = followup & mine, referral & mine
        masks["newest"] |= {
            f"{d}_last_followup_date": seen,
            f"{d}_emergency_date": emergency & (mine | unset),
            f"{d}_last_face_to_face_date": seen & face_to_face,
            f"{d}_diagnosis_date": diagnosis & mine,
            f"{d}_sent": referred & (status == REFERRAL_STATUSES.index("sent")),
            f"{d}_returned": referred & (status == REFERRAL_STATUSES.index("returned")),
            f"{d}_answered": referred & (status > 0),  # arrived or returned
        }
        masks["earliest"] |= {f"{d}_diagnosis": diagnosis & mine, f"{d}_followup": seen}
        masks["count"] |= {
            f"{d}_followups_12m": seen & face_to_face & (timeline.day > window_start),
            f"{d}_followups": seen,
            f"{d}_recorded": mine & says,
        }
        masks["last"] |= {f"{d}_followup": seen, f"{d}_treated": mine & timeline.has("on_treatment")}
    masks["newest"]["last_event_date"] = np.ones(len(timeline.day), dtype=bool)
    masks["count"]["not_recorded"] = ~unset | ~says
    masks["last"]["pregnant"] = timeline.has("pregnant")
    return masks


def followup_counts(timeline: Timeline, *, as_of: dt.date) -> dict[str, np.ndarray]:
    """Per disease, what the follow-ups, diagnoses, referrals and treatment say; then the newest event and
    pregnancy. Days are whole days (:data:`NO_DAY` for none), counts and flags float64.

    ``recorded_by_events`` is 1.0 where an event of the disease records it (a diagnosis, a follow-up,
    treatment), 0.0 where none does, and NaN where no event says either way (each names no disease and would
    record it), as SQL's ``bool_or`` over NULLs.
    """
    masks = _masks(timeline, as_of)
    newest = _stacked(timeline.newest, masks["newest"])
    earliest = _stacked(timeline.earliest, masks["earliest"])
    count = _stacked(timeline.count, masks["count"])
    last = _stacked(timeline.last, masks["last"])
    out: dict[str, np.ndarray] = {}
    for d in DISEASE_NAMES:
        sent, returned, answered = newest[f"{d}_sent"], newest[f"{d}_returned"], newest[f"{d}_answered"]
        registered = earliest[f"{d}_diagnosis"]
        next_at, treated_at = last[f"{d}_followup"], last[f"{d}_treated"]
        out |= {
            f"{d}_last_followup_date": newest[f"{d}_last_followup_date"],
            # The next follow-up date agreed at the newest follow-up (none where that one names none) [SPEC 14.4].
            f"{d}_next_followup_date": np.where(next_at < 0, NO_DAY, timeline.next_followup_day[next_at]),
            f"{d}_followups_12m": count[f"{d}_followups_12m"],
            f"{d}_followups": count[f"{d}_followups"],
            f"{d}_registered_date": np.where(registered == NO_DAY, earliest[f"{d}_followup"], registered),
            f"{d}_emergency_date": newest[f"{d}_emergency_date"],
            f"{d}_last_face_to_face_date": newest[f"{d}_last_face_to_face_date"],
            f"{d}_diagnosis_date": newest[f"{d}_diagnosis_date"],
            f"{d}_referral_open_date": _when(sent > returned, sent),
            f"{d}_referral_returned_date": returned,
            f"{d}_treated": np.where(treated_at < 0, np.nan, timeline.values["on_treatment"][treated_at]),
            f"{d}_referral_sent_date": _when(sent > answered, sent),
            f"{d}_recorded_by_events": np.where(
                count[f"{d}_recorded"] > 0, 1.0, np.where(count["not_recorded"] > 0, 0.0, np.nan)
            ),
        }
    pregnant_at = last["pregnant"]
    return out | {
        "last_event_date": newest["last_event_date"],
        "pregnant": np.where(pregnant_at < 0, np.nan, timeline.values["pregnant"][pregnant_at]),
        "pregnant_date": np.where(pregnant_at < 0, NO_DAY, timeline.day[pregnant_at]),
    }


def _after_return(timeline: Timeline, disease: str, returned: np.ndarray) -> np.ndarray:
    """The disease's follow-ups dated after the newest return of its referrals (all where none returned)."""
    followup = timeline.is_kind("followup") & timeline.of_disease(disease)
    return followup & (timeline.day > returned[timeline.group])


def _controlled(timeline: Timeline, rows: Mapping[str, np.ndarray], disease: str, config: RiskConfig) -> np.ndarray:
    """Each event's control of the disease: 1.0, 0.0, or NaN where the event lacks the measurement."""
    values, profile = timeline.values, config.control.profile
    if disease == "hypertension":
        who = timeline.group
        diabetic = rows["diabetes_recorded"][who]
        return bp_controlled(
            values["sbp_mmhg"], values["dbp_mmhg"], rows["age_years"][who], profile=profile, diabetic=diabetic
        )
    return glucose_controlled(values["fpg_mmol_l"], values["hba1c_pct"], profile=profile)


def uncontrolled_streak(
    timeline: Timeline, rows: Mapping[str, np.ndarray], returned: Mapping[str, np.ndarray], config: RiskConfig
) -> dict[str, np.ndarray]:
    """Per disease, the uncontrolled follow-ups after the newest controlled one (``uncontrolled_visits``) and,
    where there are any, the newest measured follow-up's date; follow-ups without the disease's measurement are
    skipped. NaN / NaT for a resident without any measured follow-up."""
    out: dict[str, np.ndarray] = {}
    any_measured = np.zeros(timeline.n, dtype=bool)
    for d in DISEASE_NAMES:
        control = _controlled(timeline, rows, d, config)
        measured = _after_return(timeline, d, returned[d]) & ~np.isnan(control)
        last_controlled = timeline.newest(measured & (control == 1.0))
        late = measured & (control == 0.0) & (timeline.day > last_controlled[timeline.group])
        visits = timeline.count(late)
        out[f"{d}_uncontrolled_visits"] = visits
        out[f"{d}_uncontrolled_date"] = _when(visits > 0, timeline.newest(measured))
        any_measured |= timeline.count(measured) > 0
    for d in DISEASE_NAMES:
        out[f"{d}_uncontrolled_visits"] = np.where(any_measured, out[f"{d}_uncontrolled_visits"], np.nan)
    return out


def reactions(timeline: Timeline, returned: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per disease, at the newest follow-up (after any return): a new complication, or an adverse reaction the
    follow-up before it also recorded, refers (``complication_date``); a first adverse reaction is adjusted and
    seen again within two weeks (``adverse_date``) [BPHS 2017].

    References
    ----------
    National Basic Public Health Service Specification, 3rd edition (BPHS 2017): hypertension and type 2
    diabetes management.
    """
    adverse, complication = timeline.is_true("adverse_reaction"), timeline.is_true("new_complication")
    out: dict[str, np.ndarray] = {}
    for d in DISEASE_NAMES:
        at = np.flatnonzero(_after_return(timeline, d, returned[d]))
        who, newest = last_in_group(timeline.group, at)
        # The follow-up before the newest: the one just before it in the order, when it is the same resident's.
        slot = np.searchsorted(at, newest)
        before = at[np.maximum(slot - 1, 0)]
        repeated = (slot > 0) & (timeline.group[before] == who) & adverse[before] & adverse[newest]
        refer = complication[newest] | repeated
        first = adverse[newest] & ~complication[newest] & ~repeated
        out[f"{d}_complication_date"] = np.full(timeline.n, NO_DAY, dtype=np.int64)
        out[f"{d}_complication_date"][who] = _when(refer, timeline.day[newest])
        out[f"{d}_adverse_date"] = np.full(timeline.n, NO_DAY, dtype=np.int64)
        out[f"{d}_adverse_date"][who] = _when(first, timeline.day[newest])
    return out
