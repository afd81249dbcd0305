"""A trained model and populations for the benchmarks, built fresh in a scratch folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from riskmodel.config import RiskConfig, load_config
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.reading import read_residents
from riskmodel.synth import write_population
from training.train import train_risk_model

AS_OF = dt.date(2026, 7, 1)


def population(folder: Path, residents: int, *, suffix: str = "parquet", per_team: int = 1200, seed: int = 5) -> Path:
    return write_population(
        folder / f"population-{residents}.{suffix}", residents, teams=-(-residents // per_team), seed=seed, as_of=AS_OF
    )


def trained_model(folder: Path, *, residents: int = 200_000, config: RiskConfig | None = None) -> RiskModel:
    config = config or load_config()
    path = population(folder, residents, seed=99)
    return train_risk_model(read_residents(path).residents, config).model
