"""A team's list from the store, with its outcomes applied, and recording an outcome (SPEC 6).

Both read the latest published batch (its probabilities and derived state, so the list matches the batch)
and the team's outcomes; both are views computed for an as-of date, never stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from riskmodel.config import RiskConfig
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.reading import columns_from_values
from riskmodel.rules.actions import ACTIONS, DISEASE_ORDER
from riskmodel.scoring import assess
from riskmodel.store.batches import (
    ResultStore,
    probabilities_of_row,
    state_of_row,
    stored_probabilities,
    stored_state,
)
from riskmodel.worklist.entries import Worklist, build_worklist
from riskmodel.worklist.labels import Lang
from riskmodel.worklist.outcomes import (
    REMOVALS,
    RESIDENT_OUTCOMES,
    OutcomeError,
    apply_not_confirmed,
    apply_referrals,
    check_fits,
    hidden_until,
    outcome_effects,
    referral_hides,
)


def list_as_of(batch: dict[str, Any], as_of: dt.date | str | None, config: RiskConfig) -> dt.date:
    """The as-of date of a list: the one asked for; else today (configured zone), never before the batch."""
    if as_of is not None:
        return pd.Timestamp(as_of).date()
    return max(batch["as_of"], config.deployment.today())


def _team(store: ResultStore, team_id: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    residents, batch = store.team_residents(team_id)
    if residents.empty:
        raise LookupError(f"team {team_id} has no residents in the latest batch")
    return residents, batch


def _overlays(  # type: ignore[no-untyped-def]
    store: ResultStore,
    team_id: str,
    residents: pd.DataFrame,
    batch: dict[str, Any],
    day: dt.date,
    config: RiskConfig,
    *,
    resident: str | None = None,
):
    """The team's outcomes (one resident's, when given) as of ``day``: their effects, and the state with
    referral tracking applied."""
    positions = {rid: i for i, rid in enumerate(residents["resident_id"].tolist())}
    effects = outcome_effects(
        store.outcomes.for_team(team_id, until=day, resident_id=resident),
        positions,
        n=len(residents),
        as_of=day,
        batch_as_of=batch["as_of"],
        config=config,
    )
    state = apply_not_confirmed(apply_referrals(stored_state(residents), effects), effects)
    return effects, state, positions


def team_worklist(
    store: ResultStore,
    team_id: str,
    model: RiskModel,
    *,
    as_of: dt.date | str | None = None,
    capacity: int | None = None,
    lang: Lang = "zh",
    config: RiskConfig | None = None,
) -> tuple[Worklist, dict[str, Any]]:
    """A team's work list from the store's latest published batch, with its outcomes applied.

    Returns the list and the batch it came from. Raises :class:`~riskmodel.exceptions.StoreError` when the
    store has no published batch, and :class:`LookupError` when the team has no residents in it.
    """
    config = config or model.config
    residents, batch = _team(store, team_id)
    day = list_as_of(batch, as_of, config)
    effects, state, _ = _overlays(store, team_id, residents, batch, day, config)
    worklist = build_worklist(
        residents,
        model,
        as_of=day,
        capacity=capacity,
        lang=lang,
        config=config,
        probabilities=stored_probabilities(residents),
        state=state,
        hidden=effects.hidden | referral_hides(state, effects),
        flags=effects.flags,
    )
    return worklist, {**batch, "worklist_as_of": str(worklist.as_of)}


def record_outcome(
    store: ResultStore,
    team_id: str,
    model: RiskModel,
    request: dict[str, Any],
    *,
    recorded_by: str,
    idempotency_key: str | None = None,
    config: RiskConfig | None = None,
) -> tuple[dict[str, Any], bool]:
    """Validate an outcome against the latest batch and the team's outcomes so far, then append it.

    Raises :class:`OutcomeError` with the status that says why: 404 a resident not on the team's latest batch,
    422 an outcome that does not fit the action (or ``declined`` without a reason), 409 an action not due
    for that resident, or a resident removed from the lists (reinstate first).
    """
    config = config or model.config
    if idempotency_key is not None:
        earlier = store.outcomes.find(team_id, idempotency_key)
        if earlier is not None:
            return earlier, False
    outcome, action, disease = request["outcome"], request.get("action"), request.get("disease")
    check_fits(outcome, action, disease, request.get("reason"))
    resident = request["resident_id"]
    stored, batch = store.resident_of_team(team_id, resident)  # this one resident, as a mapping: a POST stays cheap
    if stored is None:
        raise OutcomeError(f"resident {resident} is not on team {team_id}'s latest list", status=404)
    recorded_on = request.get("recorded_on") or config.deployment.today()
    effects = outcome_effects(
        store.outcomes.for_team(team_id, until=recorded_on, resident_id=resident),
        {resident: 0},
        n=1,
        as_of=recorded_on,
        batch_as_of=batch["as_of"],
        config=config,
    )
    state = apply_referrals(state_of_row(stored), effects)
    removed = effects.removed.get(0)
    if removed is not None and outcome != "reinstate":
        raise OutcomeError(f"resident {resident} was recorded as {removed}; record reinstate first", status=409)
    if outcome == "reinstate" and removed is None:
        raise OutcomeError(f"resident {resident} is not removed from the lists", status=409)
    if outcome not in RESIDENT_OUTCOMES:
        assessment = assess(
            columns_from_values([stored]),
            model,
            as_of=max(recorded_on, batch["as_of"]),
            config=config,
            probabilities=probabilities_of_row(stored),
            state=state,
        )
        if not assessment.actions.due[0, DISEASE_ORDER.index(disease), ACTIONS.index(action)]:
            raise OutcomeError(f"{action} for {disease} is not due for resident {resident}", status=409)
    row = {
        "team_id": team_id,
        "resident_id": resident,
        "disease": None if outcome in RESIDENT_OUTCOMES else disease,
        "action": None if outcome in RESIDENT_OUTCOMES else action,
        "outcome": outcome,
        "reason": request.get("reason"),
        "note": request.get("note"),
        "recorded_on": recorded_on,
        "recorded_by": recorded_by,
        "hidden_until": hidden_until(outcome, recorded_on, config),
    }
    return store.outcomes.append(row, idempotency_key=idempotency_key)


__all__ = ["REMOVALS", "OutcomeError", "list_as_of", "record_outcome", "team_worklist"]
