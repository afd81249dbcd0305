"""A team's list from the store, with its outcomes applied, and recording an outcome (SPEC 6).

Both read the latest published batch (its probabilities and derived state, so the list matches the batch)
and the team's outcomes; both are views computed for an as-of date, never stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.exc import IntegrityError

from riskmodel.config import RiskConfig
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.reading import columns_from_values
from riskmodel.rules.actions import ACTIONS, DISEASE_ORDER
from riskmodel.scoring import Assessment, assess
from riskmodel.store.batches import (
    ResultStore,
    probabilities_of_row,
    state_of_row,
    stored_probabilities,
    stored_state,
)
from riskmodel.store.outcome_log import VOID
from riskmodel.worklist.entries import Worklist, assess_residents, build_worklist
from riskmodel.worklist.labels import Lang
from riskmodel.worklist.outcomes import (
    REMOVALS,
    RESIDENT_OUTCOMES,
    OutcomeEffects,
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


def outcomes_as_of(batch: dict[str, Any], as_of: dt.date | str | None, today: dt.date) -> dt.date:
    """The date up to which outcomes apply: the list's date when one was asked for (an earlier list is unaffected
    by later outcomes, SPEC 6); else ``today``, so that what the team recorded since the batch shows at once."""
    if as_of is not None:
        return pd.Timestamp(as_of).date()
    return max(batch["as_of"], today)


def stale_batch(batch: dict[str, Any], config: RiskConfig, lang: Lang, *, today: dt.date) -> dict[str, Any] | None:
    """A warning when the published batch is more than ``worklist.stale_batch_days`` older than ``today``."""
    days = (today - batch["as_of"]).days
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


def _state_key(effects: OutcomeEffects) -> str:
    """A digest of what outcomes change in the batch's derived state (referrals sent and closed, confirmations
    set aside): two lists whose outcomes differ only in what they hide share their assessment."""
    digest = hashlib.blake2b(digest_size=16)
    for values in (effects.referral_sent, effects.referral_closed):
        where = np.flatnonzero(~np.isnat(values))
        digest.update(np.int64(where.size).tobytes())  # a referral sent is not one closed on the same day
        digest.update(where.tobytes() + values.ravel()[where].astype("datetime64[D]").view(np.int64).tobytes())
    digest.update(np.flatnonzero(effects.not_confirmed).tobytes())
    return digest.hexdigest()


def team_worklist(
    store: ResultStore,
    team_id: str,
    model: RiskModel,
    *,
    today: dt.date,
    as_of: dt.date | str | None = None,
    capacity: int | None = None,
    lang: Lang = "zh",
    config: RiskConfig | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    reasons: bool = True,
) -> tuple[Worklist, dict[str, Any]]:
    """A team's work list from the store's latest published batch, with its outcomes applied.

    ``today`` (the deployment's date, resolved by the caller) dates the outcomes applied when no ``as_of`` is
    asked for, and the stale-batch warning.

    ``limit`` pages the list (all of it when None); ``cursor`` (a ``next_cursor`` returned before) continues
    the list it came from, with that list's date and capacity. Returns the page and the batch it came from,
    with ``worklist_as_of``, ``stale_batch`` (None, or a warning) and ``next_cursor`` (None on the last page).
    Raises :class:`~riskmodel.exceptions.StoreError` when the store has no published batch,
    :class:`LookupError` when the team has no residents in it, and
    :class:`~riskmodel.worklist.paging.CursorError` for a cursor that cannot be used.
    """
    config = config or model.config
    residents, batch = _team(store, team_id)
    day, until, capacity, offset = _page(cursor, batch, as_of, today, capacity, config)
    effects, state, _ = _overlays(store, team_id, residents, batch, until, config)
    probabilities = stored_probabilities(residents)
    assessment = _kept_assessment(store, team_id, residents, batch, day, model, config, effects, probabilities, state)
    worklist = build_worklist(
        residents,
        model,
        as_of=day,
        capacity=capacity,
        lang=lang,
        config=config,
        probabilities=probabilities,
        state=state,
        assessment=assessment,
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
        "stale_batch": stale_batch(batch, config, lang, today=today),
        "next_cursor": following,
    }


OUTCOME_WINDOW_DAYS = 30
"""Outcome dates are accepted only within [today - 30 days, today] in the deployment time zone (SPEC 16)."""


def _page(
    cursor: str | None,
    batch: dict[str, Any],
    as_of: dt.date | str | None,
    today: dt.date,
    capacity: int | None,
    config: RiskConfig,
) -> tuple[dt.date, dt.date, int, int]:
    """The list's date, the date outcomes count until, the capacity and the offset: a cursor's (the list it
    came from), or a first page's."""
    if cursor is not None:
        page = Cursor.decode(cursor)
        page.check_batch(batch["batch_id"])
        return page.list_date, page.outcomes_until, page.capacity, page.offset
    return (
        list_as_of(batch, as_of, config),
        outcomes_as_of(batch, as_of, today),
        capacity or config.worklist.capacity,
        0,
    )


def _kept_assessment(
    store: ResultStore,
    team_id: str,
    residents: pd.DataFrame,
    batch: dict[str, Any],
    day: dt.date,
    model: RiskModel,
    config: RiskConfig,
    effects: Any,
    probabilities: dict[str, np.ndarray],
    state: dict[str, np.ndarray],
) -> Assessment:
    """The team's assessment, kept by the store between requests.

    It depends on the batch's rows, the date, the model, the config and the state outcomes made; outcomes that
    only hide (agreed, call_later, ...) leave the state as it was, so the next page, and the list after such an
    outcome, re-use it. The model and config are kept with the value, so their ids cannot be re-used while it
    is cached."""
    key = (batch["batch_id"], "assessment", team_id, day, id(model), id(config), _state_key(effects))
    _, _, assessment = store.derived(
        key,
        lambda: (
            model,
            config,
            assess_residents(residents, model, as_of=day, config=config, probabilities=probabilities, state=state),
        ),
    )
    return assessment  # type: ignore[no-any-return]


def check_recorded_on(recorded_on: dt.date, config: RiskConfig, *, today: dt.date) -> None:
    """Raise :class:`OutcomeError` (422, ``recorded_on``) for a date outside [today - 30 days, today]."""
    earliest = today - dt.timedelta(days=OUTCOME_WINDOW_DAYS)
    if not earliest <= recorded_on <= today:
        raise OutcomeError(
            f"recorded_on must be between {earliest} and {today} (today in {config.deployment.timezone}, "
            f"at most {OUTCOME_WINDOW_DAYS} days back)",
            status=422,
            field="recorded_on",
        )


def body_digest(team_id: str, request: dict[str, Any]) -> str:
    """SHA-256 of a request's body (and its team): what an ``Idempotency-Key`` is bound to (SPEC 16)."""
    canonical = json.dumps({"team_id": team_id, **request}, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record_outcome(
    store: ResultStore,
    team_id: str,
    model: RiskModel,
    request: dict[str, Any],
    *,
    today: dt.date,
    recorded_by: str,
    idempotency_key: str | None = None,
    idempotency_scope: str | None = None,
    config: RiskConfig | None = None,
) -> tuple[dict[str, Any], bool]:
    """Validate an outcome against the latest batch and the team's outcomes so far, then append it.

    ``today`` (the deployment's date, resolved by the caller) is the default ``recorded_on`` and the end of the
    window it must fall in.

    An ``idempotency_key`` is scoped to the caller's API key (``idempotency_scope``, default ``recorded_by``)
    and bound to the body: the same key and body answer the first outcome (``False``: not new); the same key
    with another body is 422 on ``idempotency_key``.

    Raises :class:`OutcomeError` with the status that says why: 404 a resident not on the team's latest batch,
    422 an outcome that does not fit the action (or ``declined`` without a reason), or a date outside
    [today - 30 days, today], 409 an action not due for that resident, or a resident removed from the lists
    (reinstate first).
    """
    config = config or model.config
    scope = idempotency_scope or recorded_by
    digest = body_digest(team_id, request)
    if idempotency_key is not None:
        earlier = store.outcomes.find(scope, idempotency_key)
        if earlier is not None:
            if earlier[1] != digest:
                raise OutcomeError(
                    "this Idempotency-Key was used with another body", status=422, field="idempotency_key"
                )
            return earlier[0], False
    outcome, action, disease = request["outcome"], request.get("action"), request.get("disease")
    check_fits(outcome, action, disease, request.get("reason"))
    recorded_on = request.get("recorded_on") or today
    check_recorded_on(recorded_on, config, today=today)
    resident = request["resident_id"]
    _check_listed(store, team_id, resident, outcome, action, disease, model, recorded_on=recorded_on, config=config)
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
    return store.outcomes.append(row, idempotency_key=idempotency_key, scope=scope, body_digest=digest)


def _check_listed(
    store: ResultStore,
    team_id: str,
    resident: str,
    outcome: str,
    action: str | None,
    disease: str | None,
    model: RiskModel,
    *,
    recorded_on: dt.date,
    config: RiskConfig,
) -> None:
    """The outcome fits the team's list as it stands: the resident is on the latest batch (404), not removed
    unless reinstated (409), and an action's outcome answers an action due on that list (409)."""
    stored, batch = store.resident_of_team(team_id, resident)  # this one resident, as a mapping: a POST stays cheap
    if stored is None:
        raise OutcomeError(f"resident {resident} is not on team {team_id}'s latest list", status=404)
    effects = outcome_effects(
        store.outcomes.for_team(team_id, until=recorded_on, resident_id=resident),
        {resident: 0},
        n=1,
        as_of=recorded_on,
        batch_as_of=batch["as_of"],
        config=config,
    )
    removed = effects.removed.get(0)
    if removed is not None and outcome != "reinstate":
        raise OutcomeError(f"resident {resident} was recorded as {removed}; record reinstate first", status=409)
    if outcome == "reinstate" and removed is None:
        raise OutcomeError(f"resident {resident} is not removed from the lists", status=409)
    if outcome in RESIDENT_OUTCOMES:
        return
    assessment = assess(
        columns_from_values([stored]),
        model,
        as_of=list_as_of(batch, None, config),  # due on the list the team sees: the latest batch's (SPEC 6, 15)
        config=config,
        probabilities=probabilities_of_row(stored),
        state=apply_not_confirmed(apply_referrals(state_of_row(stored), effects), effects),  # as the list has it
    )
    if not assessment.actions.due[0, DISEASE_ORDER.index(disease), ACTIONS.index(action)]:  # type: ignore[arg-type]
        raise OutcomeError(f"{action} for {disease} is not due for resident {resident}", status=409)


def void_outcome(
    store: ResultStore,
    team_id: str,
    outcome_id: str,
    reason: str | None,
    *,
    today: dt.date,
    recorded_by: str,
    config: RiskConfig,
) -> dict[str, Any]:
    """Correct an outcome recorded in error (SPEC 16): append a ``void`` record naming it, with a reason. The
    voided outcome stops taking effect on the lists and indicators; the log keeps both.

    Raises :class:`OutcomeError`: 422 without a reason, 404 an outcome the team does not have, 409 a void
    record or an outcome already voided. The void is recorded on ``today`` (resolved by the caller)."""
    if not (reason or "").strip():
        raise OutcomeError("a void needs a reason", status=422, field="reason")
    voided = store.outcomes.get(team_id, outcome_id)
    if voided is None:
        raise OutcomeError(f"team {team_id} has no outcome {outcome_id}", status=404)
    if voided["outcome"] == VOID:
        raise OutcomeError(f"outcome {outcome_id} is a void record; it cannot be voided", status=409)
    if voided["voided_by"] is not None:
        raise OutcomeError(f"outcome {outcome_id} was already voided by {voided['voided_by']}", status=409)
    row = {
        "team_id": team_id,
        "resident_id": voided["resident_id"],
        "disease": None,
        "action": None,
        "outcome": VOID,
        "reason": (reason or "").strip(),
        "note": None,
        "recorded_on": today,
        "recorded_by": recorded_by,
        "hidden_until": None,
        "voids": outcome_id,
    }
    try:
        record, _ = store.outcomes.append(row)
    except IntegrityError as exc:  # another void of the same outcome landed first
        raise OutcomeError(f"outcome {outcome_id} was already voided", status=409) from exc
    return record


__all__ = [
    "OUTCOME_WINDOW_DAYS",
    "REMOVALS",
    "OutcomeError",
    "body_digest",
    "check_recorded_on",
    "list_as_of",
    "outcomes_as_of",
    "record_outcome",
    "stale_batch",
    "team_worklist",
    "void_outcome",
]
