"""Prioritised work lists per team (SPEC section 6).

One entry per resident with anything due, listing every due action of both diseases; the entry's
``action`` is the most urgent and the entry belongs to that action's band. Entries are ordered by band,
then priority (:mod:`riskmodel.rules.actions`). A team's capacity truncates bands 3 and 4 (entries per
band), never 1-2; the list says, per action, how many were due, listed and hidden, and for a cut band the
first resident left off with their priority and the cut-off priority. Actions hidden by outcomes (a mask
given by :mod:`riskmodel.worklist.outcomes`) are not listed and use no capacity. Reasons are computed only
for listed residents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.config import RiskConfig
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.reading import resident_columns
from riskmodel.records.schema import DISEASES, TIER_SOURCES, TIERS
from riskmodel.rules.actions import ACTION_BANDS, ACTIONS, DISEASE_ORDER, SHARED_CAPACITY_BANDS, TESTS
from riskmodel.scoring import Assessment, assess
from riskmodel.worklist.explain import due_actions, resident_reasons
from riskmodel.worklist.labels import (
    ACTION_LABELS,
    BAND_CODES,
    SOURCE_LABELS,
    TIER_LABELS,
    Lang,
    counts_line,
    label,
    label_band,
    tests_label,
)

CSV_COLUMNS = (
    "rank",
    "resident_id",
    "grid_id",
    "band",
    "band_label",
    "action",
    "action_disease",
    "due_date",
    "overdue_days",
    "priority",
    "tests",
    "actions",
    "diabetes_tier",
    "hypertension_tier",
    "diabetes_p_chronic",
    "hypertension_p_chronic",
    "reasons",
)
CONTACT_COLUMNS = ("name", "phone", "address")


@dataclass(frozen=True)
class Worklist:
    """A team's list as of a date: the entries, and what capacity and outcomes did to it."""

    as_of: dt.date
    capacity: int
    entries: list[dict[str, Any]]
    """The entries of the page asked for (all of them without a limit); ``rank`` counts from the list's top."""
    counts: dict[str, dict[str, int]]
    cuts: list[dict[str, Any]] = field(default_factory=list)
    bands: list[dict[str, Any]] = field(default_factory=list)
    """Per band, in entries: due, listed, cut by capacity, hidden by outcomes (:func:`band_counts`)."""
    total: int = 0
    """Entries on the whole list (every page)."""
    offset: int = 0
    """Entries before this page."""

    def __len__(self) -> int:
        return len(self.entries)

    def to_frame(self, *, contacts: bool = False) -> pd.DataFrame:
        """One row per entry, actions and reasons joined into text (for CSV); with ``contacts``, the name, phone
        and address the entries carry (the team's own list only)."""
        names = [*CSV_COLUMNS[:2], *(CONTACT_COLUMNS if contacts else ()), *CSV_COLUMNS[2:]]
        rows = []
        for entry in self.entries:
            row = {name: entry.get(name) for name in CSV_COLUMNS}
            row["actions"] = "; ".join(f"{a['disease']}:{a['action']}:{a['due_date']}" for a in entry["actions"])
            row["reasons"] = " | ".join(entry["reasons"])
            if contacts:
                row.update({name: (entry.get("contact") or {}).get(name) for name in CONTACT_COLUMNS})
            rows.append(row)
        return pd.DataFrame(rows, columns=names)


def _entry_band(assessment: Assessment, visible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per resident: the band and priority of the most urgent visible action (band 0: nothing visible)."""
    n = visible.shape[0]
    priority = np.where(visible, assessment.actions.priority, -np.inf).reshape(n, -1)
    best = np.argmax(priority, axis=1)
    bands = np.tile(np.asarray(ACTION_BANDS), 2)[best]
    any_visible = visible.reshape(n, -1).any(axis=1)
    return np.where(any_visible, bands, 0), np.where(any_visible, priority[np.arange(n), best], -np.inf)


def select_entries(
    assessment: Assessment, capacity: int, hidden: np.ndarray | None = None
) -> tuple[np.ndarray, list[dict[str, Any]], np.ndarray]:
    """Row positions on the list in order, the cuts made by capacity, and the visible-action mask.

    Band 1 is never cut; bands 2-4 share ``capacity`` entries, filled in band order (SPEC 15): band 2 first,
    then 3, then 4. ``hidden`` (n, 2, 7) marks actions that outcomes hide; they are not listed and use no
    capacity.
    """
    due = assessment.actions.due
    visible = due & ~hidden if hidden is not None else due
    band, priority = _entry_band(assessment, visible)
    chosen: list[np.ndarray] = []
    cuts: list[dict[str, Any]] = []
    slots = capacity
    for b in (1, 2, 3, 4):
        rows = np.flatnonzero(band == b)
        rows = rows[np.argsort(-priority[rows], kind="stable")]
        if b in SHARED_CAPACITY_BANDS:
            kept = min(len(rows), slots)
            slots -= kept
            if kept < len(rows):
                left = rows[kept]
                cuts.append(
                    {
                        "band": b,
                        "entries_due": int(len(rows)),
                        "listed": int(kept),
                        "cut": int(len(rows) - kept),
                        "cut_off_priority": float(priority[rows[kept - 1]]) if kept else None,
                        "first_left_off": int(left),
                        "first_left_off_priority": float(priority[left]),
                    }
                )
                rows = rows[:kept]
        chosen.append(rows)
    return np.concatenate(chosen).astype(np.int64), cuts, visible


def band_counts(
    assessment: Assessment, visible: np.ndarray, listed_rows: np.ndarray, lang: Lang
) -> list[dict[str, Any]]:
    """Per band, in entries (residents): due, listed, cut by capacity and hidden by outcomes.

    A resident counts in the band of their most urgent action still shown; a resident whose every due action
    is hidden counts as hidden, in the band of their most urgent due action. So ``due = listed + cut +
    hidden`` in every band, and the bands together hold every resident with anything due.
    """
    shown_band, _ = _entry_band(assessment, visible)
    due_band, _ = _entry_band(assessment, assessment.actions.due)
    on_list = np.zeros(len(shown_band), dtype=bool)
    on_list[listed_rows] = True
    out = []
    for b in (1, 2, 3, 4):
        candidates = shown_band == b
        listed = int((candidates & on_list).sum())
        hidden = int(((shown_band == 0) & (due_band == b)).sum())
        cut = int(candidates.sum()) - listed
        out.append(
            {
                "band": b,
                "code": BAND_CODES[b],
                "label": label_band(b, lang),
                "due": listed + cut + hidden,
                "listed": listed,
                "cut": cut,
                "hidden": hidden,
            }
        )
    return out


def _counts(due: np.ndarray, visible: np.ndarray, listed_rows: np.ndarray) -> dict[str, dict[str, int]]:
    """Per action: instances due (hidden included), listed, and hidden by outcomes."""
    on_list = np.zeros(due.shape[0], dtype=bool)
    on_list[listed_rows] = True
    counts = {}
    for a, name in enumerate(ACTIONS):
        counts[name] = {
            "due": int(due[:, :, a].sum()),
            "listed": int((visible[:, :, a] & on_list[:, None]).sum()),
            "hidden": int((due[:, :, a] & ~visible[:, :, a]).sum()),
        }
    return counts


def _disease_block(assessment: Assessment, i: int, disease: str, lang: Lang) -> dict[str, Any]:
    tier = assessment.tiers[disease]
    name = TIERS[tier.tier[i]]
    return {
        "tier": name,
        "tier_label": label(TIER_LABELS, name, lang),
        "tier_source": TIER_SOURCES[tier.source[i]],
        "tier_source_label": source_label(assessment, i, disease, lang),
        "confirmed": bool(tier.confirmed[i]),
        "stale": bool(tier.stale[i]),
        "guideline_high_risk": bool(assessment.guideline_high_risk[disease][i]),
        "p_chronic": round(float(assessment.probabilities[disease][i, 2]), 6),
    }


def source_label(assessment: Assessment, i: int, disease: str, lang: Lang) -> str:
    """Where the tier came from, in words: a CDRS-raised tier is a risk score (风险评分), never a test result."""
    tier = assessment.tiers[disease]
    code = "score" if tier.by_score[i] else TIER_SOURCES[tier.source[i]]
    return label(SOURCE_LABELS, code, lang)


def entry_actions(
    assessment: Assessment, i: int, lang: Lang, visible: np.ndarray | None = None
) -> list[dict[str, Any]]:
    """Every due action of resident ``i`` (visible ones, when a mask is given), most urgent first."""
    actions = assessment.actions
    out = []
    for disease, a in due_actions(assessment, i):
        d = DISEASE_ORDER.index(disease)
        if visible is not None and not visible[i, d, a]:
            continue
        test = str(TESTS[actions.test[i, d, a]])
        code = ACTIONS[a]
        shown = "record_diagnosis" if code == "confirm_diagnosis" and assessment.tiers[disease].confirmed[i] else code
        out.append(
            {
                "disease": disease,
                "action": code,
                "label": label(ACTION_LABELS, shown, lang),
                "band": ACTION_BANDS[a],
                "due_date": str(actions.due_date[i, d, a]),
                "overdue_days": int(actions.overdue_days[i, d, a]),
                "tests": test,
                "test_label": tests_label(test, lang),
                "priority": float(actions.priority[i, d, a]),
            }
        )
    return out


def assess_residents(
    residents: pd.DataFrame,
    model: RiskModel,
    *,
    as_of: dt.date | str | None,
    config: RiskConfig,
    probabilities: Mapping[str, np.ndarray] | None = None,
    state: Mapping[str, np.ndarray] | None = None,
) -> Assessment:
    """Validated residents assessed as of a date, with the batch's probabilities and state when given."""
    columns = resident_columns(residents)
    return assess(columns, model, as_of=as_of, config=config, probabilities=probabilities, state=state)


def build_worklist(
    residents: pd.DataFrame,
    model: RiskModel,
    *,
    as_of: dt.date | str | None = None,
    capacity: int | None = None,
    lang: Lang = "zh",
    config: RiskConfig | None = None,
    probabilities: Mapping[str, np.ndarray] | None = None,
    state: Mapping[str, np.ndarray] | None = None,
    hidden: np.ndarray | None = None,
    flags: Mapping[int, list[str]] | None = None,
    offset: int = 0,
    limit: int | None = None,
    reasons: bool = True,
    assessment: Assessment | None = None,
) -> Worklist:
    """The work list of the given residents (normally one team) as of a date.

    Parameters
    ----------
    residents
        Validated residents (from a file, or the store's latest batch).
    model
        The model; used for probabilities (unless given) and for the feature contributions in reasons.
    capacity
        Entries shared by bands 2-4 (band 1 is never cut); the config's ``worklist.capacity`` by default.
    probabilities, state
        The batch's probabilities and derived history state, so that the list matches the stored batch.
    hidden
        Actions hidden by outcomes, (n, 2, 7).
    flags
        Per resident position, flags outcomes raised (``unreachable_3x``).
    offset, limit
        The page: entries ``offset`` to ``offset + limit`` of the list (all from ``offset`` without a limit).
        Entries, and their reasons, are built only for the page; the counts cover the whole list.
    reasons
        False: leave the reasons out (an empty list per entry).
    assessment
        These residents' assessment with these arguments, when already made (the team's list keeps it between
        requests); made here otherwise.
    """
    config = config or model.config
    capacity = capacity or config.worklist.capacity
    if assessment is None:
        assessment = assess_residents(
            residents, model, as_of=as_of, config=config, probabilities=probabilities, state=state
        )
    listed_rows, cuts, visible = select_entries(assessment, capacity, hidden)
    chosen = listed_rows[offset : None if limit is None else offset + limit]
    words_of = (
        resident_reasons(assessment, chosen, model, config, lang, visible=visible) if reasons else [[] for _ in chosen]
    )
    ids = residents["resident_id"].to_numpy(dtype=object)
    grids = residents["grid_id"].to_numpy(dtype=object, na_value=None)
    entries = [
        _entry(
            assessment,
            int(position),
            rank,
            ids,
            grids,
            words,
            lang,
            visible,
            list((flags or {}).get(int(position), [])),
        )
        for rank, (position, words) in enumerate(zip(chosen, words_of, strict=True), start=offset + 1)
    ]
    for cut in cuts:
        left = cut.pop("first_left_off")
        cut["first_left_off"] = {"resident_id": ids[left], "priority": cut.pop("first_left_off_priority")}
    return Worklist(
        as_of=pd.Timestamp(assessment.as_of).date(),
        capacity=capacity,
        entries=entries,
        counts=_counts(assessment.actions.due, visible, listed_rows),
        cuts=cuts,
        bands=band_counts(assessment, visible, listed_rows, lang),
        total=len(listed_rows),
        offset=offset,
    )


def _entry(
    assessment: Assessment,
    i: int,
    rank: int,
    ids: np.ndarray,
    grids: np.ndarray,
    words: list[Any],
    lang: Lang,
    visible: np.ndarray,
    flags: list[str],
) -> dict[str, Any]:
    """One resident's entry: the first due action (band, label, due date, priority), every visible action,
    each disease's block, the tiers and the reasons."""
    listed = entry_actions(assessment, i, lang, visible)
    first = listed[0]
    blocks = {disease: _disease_block(assessment, i, disease, lang) for disease in DISEASES}
    return {
        "rank": rank,
        "resident_id": ids[i],
        "grid_id": grids[i],
        "band": first["band"],
        "band_label": label_band(first["band"], lang),
        "action": first["action"],
        "action_label": first["label"],
        "action_disease": first["disease"],
        "due_date": first["due_date"],
        "overdue_days": first["overdue_days"],
        "priority": first["priority"],
        "tests": ", ".join(dict.fromkeys(a["tests"] for a in listed if a["tests"])),
        "actions": listed,
        **blocks,
        "diabetes_tier": blocks["diabetes"]["tier"],
        "hypertension_tier": blocks["hypertension"]["tier"],
        "overall_tier": assessment.overall[i],
        "overall_tier_label": label(TIER_LABELS, assessment.overall[i], lang),
        "diabetes_p_chronic": blocks["diabetes"]["p_chronic"],
        "hypertension_p_chronic": blocks["hypertension"]["p_chronic"],
        "flags": flags,
        "reasons": words,
    }


def worklist_body(worklist: Worklist, batch: Mapping[str, Any], lang: Lang = "zh") -> dict[str, Any]:
    """The JSON body of a work list (API and CLI alike): the page's entries, and the counts of the whole list."""
    return {
        "as_of": str(worklist.as_of),
        "list_date": str(worklist.as_of),
        "batch_id": batch["batch_id"],
        "batch_as_of": str(batch["as_of"]),
        "batch_date": str(batch["as_of"]),
        "stale_batch": batch.get("stale_batch"),
        "model_version": batch["model_version"],
        "capacity": worklist.capacity,
        # SPEC 6: counts per action, and the cut per band (also as the list ``cuts``).
        "counts": {**worklist.counts, "cut": {str(cut["band"]): cut for cut in worklist.cuts}},
        "cuts": worklist.cuts,
        # SPEC 15: every band in full, in entries, and the same in words.
        "bands": worklist.bands,
        "counts_text": counts_line(worklist.bands, lang),
        "total": worklist.total,
        "offset": worklist.offset,
        "next_cursor": batch.get("next_cursor"),
        "entries": worklist.entries,
    }
