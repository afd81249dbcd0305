"""SPEC 14.4: synth → the BPHS forms → import gives the same assessments as synth itself (tiers, actions, due dates
per resident; with the trained model also its probabilities), as CSV in GBK and as Excel workbooks."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from riskmodel.cli.commands import app
from riskmodel.interchange import read_forms, write_forms, write_import
from riskmodel.synth.population import events_path, write_population
from tests.riskmodel.interchange.test_fhir_round_trip import AS_OF, _assess, assert_same_assessments


def _through_forms(tmp_path, seed: int, **options):  # type: ignore[no-untyped-def]
    synth = tmp_path / "synth.parquet"
    write_population(synth, 300, teams=1, seed=seed, as_of=AS_OF, history_years=3)
    frame = pq.read_table(synth).to_pandas()
    events = pq.read_table(events_path(synth)).to_pandas()
    paths, not_written = write_forms(frame, events, tmp_path / "forms", as_of=AS_OF, **options)
    assert not_written == 0
    imported = tmp_path / "imported.parquet"
    summary = write_import(read_forms(paths, as_of=AS_OF), imported, as_of=AS_OF, source="bphs-forms")
    assert summary.rejected == 0 and summary.residents == 300
    kinds = set(events["kind"])
    assert {"followup", "diagnosis", "referral", "health_check", "screening"} <= kinds  # the history is all there
    return synth, imported


@pytest.mark.parametrize("options", [{"encoding": "gbk"}, {"file_format": "xlsx"}], ids=["gbk-csv", "xlsx"])
def test_synth_through_the_forms_scores_the_same(tmp_path, config, options):
    synth, imported = _through_forms(tmp_path, 7, **options)
    assert_same_assessments(_assess(synth, config), _assess(imported, config))
    imported_events = pq.read_table(events_path(imported)).to_pandas()
    assert set(imported_events["referral_status"].dropna()) == {"sent", "arrived"}


@pytest.mark.slow
def test_synth_through_the_forms_scores_the_same_with_the_model(tmp_path, config, model):
    synth, imported = _through_forms(tmp_path, 11)
    assert_same_assessments(_assess(synth, config, model), _assess(imported, config, model))


def test_export_command_writes_the_forms_and_fhir(tmp_path):
    synth = tmp_path / "synth.parquet"
    write_population(synth, 40, teams=1, seed=3, as_of=AS_OF, history_years=2)
    runner = CliRunner()
    for target in ("bphs-forms", "fhir-ndjson", "fhir-bundle"):
        result = runner.invoke(
            app,
            ["export", "--to", target, "--input", str(synth), "--out", str(tmp_path / target), "--as-of", "2026-07-01"],
        )
        assert result.exit_code == 0, result.output
    assert (tmp_path / "bphs-forms" / "高血压患者随访服务记录表.csv").exists()
    assert (tmp_path / "fhir-ndjson" / "Patient.ndjson").exists() and (
        tmp_path / "fhir-bundle" / "bundle.json"
    ).exists()
    result = runner.invoke(
        app,
        [
            "import",
            "--from",
            "bphs-forms",
            *map(str, (tmp_path / "bphs-forms").iterdir()),
            "--out",
            str(tmp_path / "back.parquet"),
            "--as-of",
            "2026-07-01",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 40 residents" in result.output
    bad = runner.invoke(app, ["export", "--to", "hl7v2", "--input", str(synth), "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
