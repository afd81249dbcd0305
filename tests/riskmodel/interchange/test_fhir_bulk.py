"""SPEC 10 / 14.2: bulk NDJSON imported in buckets writes what the direct import writes (rows, counts, schema)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from riskmodel.interchange import population_resources, read_fhir, write_import, write_ndjson
from riskmodel.interchange.fhir_bulk import import_fhir
from riskmodel.interchange.importing import rejected_path
from riskmodel.interchange.settings import FhirSettings
from riskmodel.synth.population import events_path, write_population

AS_OF = dt.date(2026, 7, 1)


def _sorted(path) -> pd.DataFrame:
    frame = pq.read_table(path).to_pandas().astype(str)
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.mark.parametrize("workers", [1, 2])
def test_buckets_write_what_the_direct_import_writes(tmp_path, workers):
    synth = tmp_path / "synth.parquet"
    write_population(synth, 150, teams=2, seed=3, as_of=AS_OF, history_years=2)
    frame, events = pq.read_table(synth).to_pandas(), pq.read_table(events_path(synth)).to_pandas()
    files = write_ndjson(population_resources(frame, events, AS_OF, FhirSettings()), tmp_path / "fhir")
    with open(tmp_path / "fhir" / "Observation.ndjson", "a", encoding="utf-8") as handle:
        handle.write("not json\n")
        bad = {"resourceType": "Observation", "id": "o-bad", "status": "final", "subject": {"reference": "Patient/x"}}
        handle.write(json.dumps(bad) + "\n")
    with open(tmp_path / "fhir" / "Patient.ndjson", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"resourceType": "Patient", "id": "p-bad", "gender": "other"}) + "\n")
    direct = write_import(read_fhir(files, as_of=AS_OF), tmp_path / "a" / "r.parquet", as_of=AS_OF)
    size = sum(p.stat().st_size for p in files)
    bulk = import_fhir(files, tmp_path / "b" / "r.parquet", as_of=AS_OF, bucket_bytes=size // 4, workers=workers)
    assert (bulk.residents, bulk.events, bulk.rejected) == (direct.residents, direct.events, direct.rejected)
    assert bulk.counts == direct.counts and direct.rejected >= 3
    for name in (lambda p: p, events_path, lambda p: rejected_path(p, "fhir")):
        a, b = name(tmp_path / "a" / "r.parquet"), name(tmp_path / "b" / "r.parquet")
        assert pq.read_schema(a).equals(pq.read_schema(b))
        pd.testing.assert_frame_equal(_sorted(a), _sorted(b))
    ids = pq.read_table(tmp_path / "b" / "r.parquet").column("resident_id").to_pylist()
    assert ids == [i for i in frame["resident_id"] if i in set(ids)]  # residents in the order of the input


@pytest.mark.parametrize("bucket_bytes", [2**30, 64])
def test_bytes_not_utf8_inside_an_ndjson_file_stop_with_one_line_without_the_line(tmp_path, bucket_bytes):
    """A bad file stops with one line naming the problem and the fix (SPEC 8), by the direct path and the buckets'
    (DuckDB's own message quotes the line: a resident's values)."""
    from riskmodel.exceptions import InputFileError

    patient = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1960-03-01",
               "generalPractitioner": [{"reference": "CareTeam/T1"}]}  # fmt: skip
    path = tmp_path / "Patient.ndjson"
    path.write_bytes((json.dumps(patient) + "\n").encode() * 3 + b'{"resourceType": "Patient", "id": "\xff173.25"}\n')
    with pytest.raises(InputFileError) as refused:
        import_fhir([path], tmp_path / "r.parquet", as_of=AS_OF, bucket_bytes=bucket_bytes, workers=1)
    message = str(refused.value)
    assert message.startswith(f"{path}: not UTF-8 text") and message.endswith("save it as UTF-8"), message
    assert "\n" not in message and "173" not in message and not (tmp_path / "r.parquet").exists()


def test_a_bucket_reads_a_long_integer_as_the_direct_import_does(tmp_path):
    """A bucket's lines are parsed by orjson, which reads an integer past 64 bits as a float; such a line is read
    by the standard library, so a resident id or a value of 30 digits is the same text on both paths."""
    patient = {"resourceType": "Patient", "gender": "male", "birthDate": "1960-01-01",
               "generalPractitioner": [{"reference": "CareTeam/T1"}]}  # fmt: skip
    lines = [json.dumps({**patient, "id": f"p{k}"}) for k in range(400)]
    lines += [
        json.dumps({**patient, "id": 123456789012345678901234567890}),
        json.dumps({**patient, "id": -9223372036854775809}),
        json.dumps(
            {
                "resourceType": "Observation",
                "id": 18446744073709551616,
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                "subject": {"reference": "Patient/p1"},
                "effectiveDateTime": "2026-06-01",
                "valueQuantity": {"value": 10**25, "code": "kg"},
            }
        ),  # fmt: skip
    ]
    path = tmp_path / "all.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    direct = write_import(read_fhir([path], as_of=AS_OF), tmp_path / "a" / "r.parquet", as_of=AS_OF)
    bulk = import_fhir([path], tmp_path / "b" / "r.parquet", as_of=AS_OF, bucket_bytes=path.stat().st_size // 3,
                       workers=1)  # fmt: skip
    assert (bulk.residents, bulk.rejected, bulk.counts) == (direct.residents, direct.rejected, direct.counts)
    ids = set(pq.read_table(tmp_path / "b" / "r.parquet").column("resident_id").to_pylist())
    assert {"123456789012345678901234567890", "-9223372036854775809"} <= ids
    rejected = pq.read_table(rejected_path(tmp_path / "b" / "r.parquet", "fhir")).to_pylist()
    assert [r["resource_id"] for r in rejected] == ["18446744073709551616"]
