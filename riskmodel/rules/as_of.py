"""A resident's state read as of a date, each reading made once per assessment (SPEC sections 3, 6 and 13).

The tiers and the actions ask the same questions of the state: is this result fresh, is the disease recorded,
is the resident pregnant, is an abnormal result out of date. Each answer is a rule of its own module
(:func:`~riskmodel.rules.tiers.fresh`, :func:`~riskmodel.rules.recorded.recorded`,
:func:`~riskmodel.rules.tiers.pregnant_now`, ...); :class:`StateAsOf` asks each rule once per assessment and
hands the same column to every rule that reads it. On one resident numpy's fixed cost per operation is most of
the price, so a question asked twice cost as much as the rule itself; for a million it saves the same work.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.rules.recorded import recorded
from riskmodel.rules.tiers import (
    fresh,
    fresh_bp,
    fresh_glucose,
    fresh_random_glucose,
    pregnant_now,
    stale_diabetic_result,
    stale_raised_bp,
)


class StateAsOf:
    """The residents' columns and derived state, as of a date under a config; every answer computed on first use.

    Parameters
    ----------
    columns
        The resident columns with each measure's latest value.
    state
        The derived state (:mod:`riskmodel.records.history`).
    as_of
        The date results are judged fresh and actions fall due against.
    config
        The policy in force (how long a result stays fresh).
    """

    def __init__(
        self,
        columns: Mapping[str, np.ndarray],
        state: Mapping[str, np.ndarray],
        as_of: np.datetime64,
        config: RiskConfig,
    ) -> None:
        self.columns = columns
        self.state = state
        self.as_of = as_of
        self.config = config
        self._fresh: dict[tuple[str, int], np.ndarray] = {}
        self._recorded: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.columns["age_years"])

    def fresh(self, date: str, valid_days: int) -> np.ndarray:
        """:func:`~riskmodel.rules.tiers.fresh` of the state's date column ``date``."""
        key = (date, valid_days)
        out = self._fresh.get(key)
        if out is None:
            out = self._fresh[key] = fresh(self.state[date], self.as_of, valid_days)
        return out

    def recorded(self, disease: str) -> np.ndarray:
        """:func:`~riskmodel.rules.recorded.recorded`: a diagnosis or treatment of the disease is recorded."""
        out = self._recorded.get(disease)
        if out is None:
            out = self._recorded[disease] = recorded(self.columns, self.state, disease)
        return out

    @cached_property
    def pregnant(self) -> np.ndarray:
        """:func:`~riskmodel.rules.tiers.pregnant_now`."""
        return pregnant_now(self.state, self.as_of)

    @cached_property
    def fresh_glucose(self) -> dict[str, np.ndarray]:
        """The latest FPG, OGTT-2h and HbA1c, stale ones blanked (:func:`~riskmodel.rules.tiers.fresh_glucose`)."""
        return fresh_glucose(self.state, self.as_of, self.config.tiers.glucose_result_valid_days, fresh_of=self.fresh)

    @cached_property
    def fresh_random_glucose(self) -> np.ndarray:
        """The newest random glucose, blanked when stale."""
        return fresh_random_glucose(
            self.state, self.as_of, self.config.tiers.glucose_result_valid_days, fresh_of=self.fresh
        )

    @cached_property
    def fresh_bp(self) -> dict[str, np.ndarray]:
        """The latest BP, blanked when stale."""
        return fresh_bp(self.state, self.as_of, self.config.tiers.bp_result_valid_days, fresh_of=self.fresh)

    @cached_property
    def stale_diabetic_result(self) -> np.ndarray:
        """:func:`~riskmodel.rules.tiers.stale_diabetic_result` under the glucose validity."""
        return stale_diabetic_result(
            self.state, self.as_of, self.config.tiers.glucose_result_valid_days, fresh_of=self.fresh
        )

    @cached_property
    def stale_raised_bp(self) -> np.ndarray:
        """:func:`~riskmodel.rules.tiers.stale_raised_bp` under the BP validity."""
        return stale_raised_bp(self.state, self.as_of, self.config.tiers.bp_result_valid_days, fresh_of=self.fresh)
