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
from riskmodel.worklist.paging import Cursor


def list_as_of(batch: dict[str, Any], as_of: dt.date | str | None, config: RiskConfig) -> dt.date:
    """The as-of date of a list: the one asked for; else the published batch's date (SPEC 15)."""
    if as_of is not None:
        return pd.Timestamp(as_of).date()
    return batch["as_of"]  # type: ignore[no-any-return]


def outcomes_as_of(batch: dict[str, Any], as_of: dt.date | str | None, config: RiskConfig) -> dt.date:
    """The date up to which outcomes apply: the list's date when one was asked for (an earlier list is unaffected
    by later outcomes, SPEC 6); else today, so that what the team recorded since the batch shows at once."""
    if as_of is not None:
        return pd.Timestamp(as_of).date()
    return max(batch["as_of"], config.deployment.today())


def stale_batch(batch: dict[str, Any], config: RiskConfig, lang: Lang) -> dict[str, Any] | None:
    """A warning when the published batch is more than ``worklist.stale_batch_days`` old (today, configured zone)."""
    days = (config.deployment.today() - batch["as_of"]).days
    limit = config.worklist.stale_batch_days
    if days <= limit:
        return None
    message = (
        f"名单基于 {batch['as_of']} 的数据，已过去 {days} 天（超过 {limit} 天），请检查每晚的评分任务是否运行。"
        if lang == "zh"
        else f"The list is based on data from {batch['as_of']}, {days} days ago (more than {limit}); "
        "check that the nightly scoring ran."
    )
    return {"batch_date": str(batch["as_of"]), "days_old": days, "limit_days": limit, "message": message}


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
    limit: int | None = None,
    cursor: str | None = None,
    reasons: bool = True,
) -> tuple[Worklist, dict[str, Any]]:
    """A team's work list from the store's latest published batch, with its outcomes applied.

    ``limit`` pages the list (all of it when None); ``cursor`` (a ``next_cursor`` returned before) continues
    the list it came from, with that list's date and capacity. Returns the page and the batch it came from,
    with ``worklist_as_of``, ``stale_batch`` (None, or a warning) and ``next_cursor`` (None on the last page).
    Raises :class:`~riskmodel.exceptions.StoreError` when the store has no published batch,
    :class:`LookupError` when the team has no residents in it, and
    :class:`~riskmodel.worklist.paging.CursorError` for a cursor that cannot be used.
    """
    config = config or model.config
    residents, batch = _team(store, team_id)
    offset = 0
    if cursor is not None:
        page = Cursor.decode(cursor)
        page.check_batch(batch["batch_id"])
        day, until, capacity, offset = page.list_date, page.outcomes_until, page.capacity, page.offset
    else:
        day, until = list_as_of(batch, as_of, config), outcomes_as_of(batch, as_of, config)
        capacity = capacity or config.worklist.capacity
    effects, state, _ = _overlays(store, team_id, residents, batch, until, config)
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
        offset=offset,
        limit=limit,
        reasons=reasons,
    )
    end = offset + len(worklist.entries)
    following = (
        Cursor(batch["batch_id"], day, worklist.capacity, end, until).encode()
        if limit is not None and end < worklist.total
        else None
    )
    return worklist, {
        **batch,
        "worklist_as_of": str(worklist.as_of),
        "stale_batch": stale_batch(batch, config, lang),
        "next_cursor": following,
    }


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


__all__ = ["REMOVALS", "OutcomeError", "list_as_of", "outcomes_as_of", "record_outcome", "stale_batch", "team_worklist"]
