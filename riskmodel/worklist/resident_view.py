"""One resident's values and dates as the reasons read them (SPEC 6: every value carries its date; a value
older than ``tiers.*_result_valid_days`` is marked stale)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.rules.guidelines.body_size import central_obesity_cutoff
from riskmodel.worklist.labels import Lang

if TYPE_CHECKING:
    from riskmodel.scoring import Assessment


@dataclass(frozen=True)
class ResidentView:
    """One resident's values, dates and freshness limits, as the reason builders read them."""

    values: dict[str, float]
    dates: dict[str, Any]
    as_of: np.datetime64
    valid_days: dict[str, int]
    lang: Lang
    _notes: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def note(self, measure: str) -> str:
        """The measure's date, marked stale when older than the freshness limit (or 'date not recorded')."""
        found = self._notes.get(measure)
        if found is None:
            found = self._notes[measure] = self._note(measure)
        return found

    def _note(self, measure: str) -> str:
        date = self.dates.get(measure)
        zh = self.lang == "zh"
        if date is None or np.isnat(date):
            return "日期未记录" if zh else "date not recorded"
        age = int((self.as_of - date).astype("timedelta64[D]").astype(int))
        limit = self.valid_days.get(measure)
        if limit is not None and age > limit:
            return f"{date}，已过期（超过{limit}天）" if zh else f"{date}, out of date (over {limit} days old)"
        return str(date)

    def is_fresh(self, measure: str) -> bool:
        """Dated within its freshness limit (an undated result counts as fresh, as for tiers)."""
        date = self.dates.get(measure)
        limit = self.valid_days.get(measure)
        if date is None or np.isnat(date) or limit is None:
            return True
        return int((self.as_of - date).astype("timedelta64[D]").astype(int)) <= limit

    def when(self, measure: str) -> str:
        """The date note in brackets, to follow a value."""
        return f"（{self.note(measure)}）" if self.lang == "zh" else f" ({self.note(measure)})"


def resident_view(assessment: Assessment, i: int, config: RiskConfig, lang: Lang) -> ResidentView:
    """The values and dates of resident ``i`` that reasons name."""
    columns, state = assessment.columns, assessment.state
    names = (
        "age_years",
        "bmi_kg_m2",
        "waist_cm",
        "sbp_mmhg",
        "dbp_mmhg",
        "fpg_mmol_l",
        "ogtt_2h_mmol_l",
        "hba1c_pct",
        "random_glucose_mmol_l",
        "tg_mmol_l",
        "hdl_mmol_l",
    )
    values = {name: float(state[name][i]) if name in state else float(columns[name][i]) for name in names}
    values["cdrs_points"] = float(assessment.cdrs.total[i])
    values["is_male"] = float(columns["sex"][i] == "M")
    values["waist_cut"] = float(central_obesity_cutoff(np.array([values["is_male"] == 1.0]))[0])
    dates = {
        "bp": state["bp_date"][i],
        "fpg": state["fpg_date"][i],
        "ogtt": state["ogtt_date"][i],
        "hba1c": state["hba1c_date"][i],
        "random_glucose": state["random_glucose_date"][i],
        "waist": state["waist_date"][i],
        "weight": state["weight_date"][i],
        "exam": columns["exam_date"][i],
    }
    glucose_days = config.tiers.glucose_result_valid_days
    valid = {
        "bp": config.tiers.bp_result_valid_days,
        "fpg": glucose_days,
        "ogtt": glucose_days,
        "hba1c": glucose_days,
        "random_glucose": glucose_days,
        "emergency": config.worklist.emergency_lookback_days,
    }
    return ResidentView(values, dates, assessment.as_of, valid, lang)
