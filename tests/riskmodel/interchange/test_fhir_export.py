"""FHIR out of residents and events: every code the exporter writes is one the import reads as the same column."""

from __future__ import annotations

import pytest

from riskmodel.interchange.fhir_codes import OBSERVATION_CODES
from riskmodel.interchange.fhir_export import WRITTEN_CODES


@pytest.mark.parametrize("column", sorted(WRITTEN_CODES))
def test_each_written_code_reads_back_as_its_column(column):
    code, unit = WRITTEN_CODES[column]
    assert OBSERVATION_CODES[code].column == column
    assert OBSERVATION_CODES[code].units[unit] == (1.0, 0.0)  # written in the unit read as is
