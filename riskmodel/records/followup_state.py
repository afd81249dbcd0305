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
from collections.abc import Mapping

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


def _referrals(timeline: Timeline, disease: str) -> dict[str, np.ndarray]:
    referral = timeline.is_kind("referral") & timeline.of_disease(disease)
    status = timeline.coded["referral_status"]
    sent = timeline.newest(referral & (status == REFERRAL_STATUSES.index("sent")))
    returned = timeline.newest(referral & (status == REFERRAL_STATUSES.index("returned")))
    answered = timeline.newest(referral & (status > 0))  # arrived or returned
    return {"open": _when(sent > returned, sent), "returned": returned, "sent": _when(sent > answered, sent)}


def _recorded_by_events(timeline: Timeline, disease: str) -> np.ndarray:
    """Whether an event records the disease (a diagnosis, a follow-up, treatment): 1.0, 0.0, or NaN where no
    event says either way (every event's disease is unset and would record it), as SQL's ``bool_or``."""
    says = timeline.is_kind("diagnosis") | timeline.is_kind("followup") | timeline.is_true("on_treatment")
    unset = np.isnan(timeline.coded["disease"])
    yes = timeline.count(timeline.of_disease(disease) & says) > 0
    no = timeline.count(~unset | ~says) > 0
    return np.where(yes, 1.0, np.where(no, 0.0, np.nan))


def followup_counts(timeline: Timeline, *, as_of: dt.date) -> dict[str, np.ndarray]:
    """Per disease, what the follow-ups, diagnoses, referrals and treatment say; then the newest event and
    pregnancy. Days are whole days (:data:`NO_DAY` for none), counts and flags float64."""
    out: dict[str, np.ndarray] = {}
    window_start = (np.datetime64(as_of, "D") - np.timedelta64(FOLLOWUPS_WINDOW_DAYS, "D")).astype(np.int64)
    face_to_face = np.isin(timeline.coded["mode"], _FACE_TO_FACE_CODES)
    for d in DISEASE_NAMES:
        mine = timeline.of_disease(d)
        followup = timeline.is_kind("followup") & mine
        diagnosis = timeline.is_kind("diagnosis") & mine
        referrals = _referrals(timeline, d)
        registered = timeline.earliest(diagnosis)
        treated, _ = timeline.at_newest(mine & timeline.has("on_treatment"), timeline.values["on_treatment"])
        out |= {
            f"{d}_last_followup_date": timeline.newest(followup),
            f"{d}_next_followup_date": _next_followup(timeline, followup),
            f"{d}_followups_12m": timeline.count(followup & face_to_face & (timeline.day > window_start)),
            f"{d}_followups": timeline.count(followup),
            f"{d}_registered_date": np.where(registered == NO_DAY, timeline.earliest(followup), registered),
            f"{d}_emergency_date": timeline.newest(
                timeline.is_true("emergency_signs") & (mine | np.isnan(timeline.coded["disease"]))
            ),
            f"{d}_last_face_to_face_date": timeline.newest(followup & face_to_face),
            f"{d}_diagnosis_date": timeline.newest(diagnosis),
            f"{d}_referral_open_date": referrals["open"],
            f"{d}_referral_returned_date": referrals["returned"],
            f"{d}_treated": treated,
            f"{d}_referral_sent_date": referrals["sent"],
            f"{d}_recorded_by_events": _recorded_by_events(timeline, d),
        }
    said = timeline.has("pregnant")
    pregnant, pregnant_day = timeline.at_newest(said, timeline.values["pregnant"])
    everything = np.ones(len(timeline.day), dtype=bool)
    return out | {"last_event_date": timeline.newest(everything), "pregnant": pregnant, "pregnant_date": pregnant_day}


def _next_followup(timeline: Timeline, followup: np.ndarray) -> np.ndarray:
    """The next follow-up date agreed at the newest follow-up (none where that one names none) [SPEC 14.4]."""
    at = timeline.last(followup)
    return np.where(at < 0, NO_DAY, timeline.next_followup_day[at])


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
