"""SPEC 14.2: the FHIR model's check, remembered by shape, answers what the whole model answers: for every value of
valid resources of each type replaced by values the FHIR types refuse or accept, and for resources of new shapes."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq
import pytest

from riskmodel.interchange import population_resources
from riskmodel.interchange.fhir_validation import _SHAPES, fhir_problem, model_problem
from riskmodel.interchange.settings import FhirSettings
from riskmodel.synth.population import events_path, write_population

AS_OF = dt.date(2026, 7, 1)
REPLACEMENTS = (
    "", " ", "a b", "x\ty", "not a date", "2026-13-01", "2026-02-30", "2026-06-01T25:00:00", "2026", "1e400", "0.1.2",
    "-0", "07", "x" * 70, "Patient/p1", "http://loinc.org", "é", 0, -1, 1.5, 1e300, True, False,
)  # fmt: skip


@pytest.fixture(scope="module")
def resources(tmp_path_factory) -> list[dict[str, Any]]:
    path = tmp_path_factory.mktemp("shapes") / "r.parquet"
    write_population(path, 40, teams=1, seed=5, as_of=AS_OF, history_years=3)
    frame, events = pq.read_table(path).to_pandas(), pq.read_table(events_path(path)).to_pandas()
    every = population_resources(frame, events, AS_OF, FhirSettings())
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in every:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    assert {"Patient", "Observation", "Condition", "MedicationStatement", "Encounter", "ServiceRequest"} <= set(by_type)
    return [r for group in by_type.values() for r in group[:12]]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "resourceType":
                yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            yield from _leaves(item, (*path, k))
    else:
        yield path


def _replaced(resource: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(resource)
    at = out
    for part in path[:-1]:
        at = at[part]
    at[path[-1]] = value
    return out


def test_every_value_replaced_is_judged_as_the_whole_model_judges_it(resources):
    for resource in resources:
        assert fhir_problem(resource) is None and model_problem(resource) is None
    remembered = len(_SHAPES)
    assert remembered
    judged = refused = 0
    for resource in resources:
        for path in _leaves(resource):
            for value in REPLACEMENTS:
                changed = _replaced(resource, path, value)
                expected = model_problem(changed)
                assert fhir_problem(changed) == expected, (json.dumps(changed), expected)
                judged += 1
                refused += expected is not None
    assert judged > 1000 and refused > 100


@pytest.mark.parametrize(
    "change",
    [
        {"subject": "Patient/p1"},  # a datatype as a string
        {"status": None},
        {"code": {"coding": [None]}},
        {"extra": 1},
        {"valueString": "x"},  # two values of a choice
        {"contained": [{"resourceType": "Patient", "id": "c1", "gender": "nobody"}]},
        {"resourceType": "Observation", "component": [{"code": {"text": "x"}}]},
    ],
)
def test_new_shapes_are_judged_by_the_whole_model(resources, change):
    observation = next(r for r in resources if r["resourceType"] == "Observation")
    changed = {**observation, **change}
    assert fhir_problem(changed) == model_problem(changed)
    assert fhir_problem(changed) == model_problem(changed)  # again, its shape remembered if it was valid
