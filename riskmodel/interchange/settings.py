"""Settings of the records-in adapters, from ``configs/fhir.yaml`` (where a site's FHIR server puts the grid)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from riskmodel.exceptions import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
EXTENSION_BASE = "https://riskmodel.org/fhir/StructureDefinition/"
"""Extensions for SPEC 2 columns that FHIR R4 has no element for: ``EXTENSION_BASE + <column name>``."""


@dataclass(frozen=True)
class FhirSettings:
    """Where a Patient's grid is: an extension (``grid_extension_url``) or, failing that, an address part."""

    grid_extension_url: str = EXTENSION_BASE + "grid_id"
    grid_address_part: str | None = "district"


def load_fhir_settings(path: str | Path | None = None) -> FhirSettings:
    """Read ``configs/fhir.yaml`` (or ``path``); a key that is not a setting stops with one line."""
    path = Path(path) if path is not None else CONFIGS / "fhir.yaml"
    if not path.exists():
        return FhirSettings()
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = sorted(set(values) - set(FhirSettings.__dataclass_fields__))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    part = values.get("grid_address_part", "district")
    if part not in (None, "district", "city", "state", "line"):
        raise ConfigError(f"{path}: grid_address_part must be district, city, state, line or null, not {part!r}")
    return FhirSettings(**values)
