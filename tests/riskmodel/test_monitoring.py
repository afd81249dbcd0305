"""Monitoring a published batch (SPEC 12): PSI against the training reference, fresh-label performance,
retrain_recommended with the rule that fired; stored per batch, shown by `riskmodel monitor`, on /metrics."""

from __future__ import annotations

import datetime as dt

import numpy as np

from riskmodel.batch import score_file
from riskmodel.monitoring.drift import bin_counts, psi, reference
from riskmodel.store.batches import ResultStore


def test_psi_is_zero_for_the_same_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 20_000)
    ref = reference(base[:, None], ("x",), rng.random(20_000))["features"]["x"]
    same = psi(ref["shares"], bin_counts(rng.normal(0, 1, 20_000), ref["edges"]))
    shifted = psi(ref["shares"], bin_counts(rng.normal(1, 1, 20_000), ref["edges"]))
    assert same < 0.01 < 0.25 < shifted


def test_a_published_batch_carries_its_monitoring(tmp_path, population_file, model, config):
    assert model.reference, "the trained model keeps its training reference"
    store = ResultStore(f"sqlite:///{tmp_path / 'store.db'}")
    summary = score_file(
        population_file, tmp_path / "out.parquet", model, config=config, as_of=dt.date(2026, 7, 1), store=store
    )
    batch_id, figures = store.monitoring_report()
    assert batch_id == summary.batch_id
    for disease in ("diabetes", "hypertension"):
        part = figures["diseases"][disease]
        assert part["residents"] > 0 and part["performance"]["n"] > 0
        assert max(r["psi"] for r in part["features"].values()) < 0.25  # the same generator: no drift
    assert figures["retrain_recommended"] == bool(figures["rules_fired"])


def test_a_drifted_batch_recommends_retraining_and_the_cli_shows_it(tmp_path, population, model, config):
    from typer.testing import CliRunner

    from riskmodel.cli.commands import app

    older = population.head(6000).reset_index(drop=True).copy()
    older["age_years"] = np.minimum(older["age_years"] + 25, 120)  # an older county than the training one
    older["waist_cm"] = older["waist_cm"] + 15
    source = tmp_path / "older.parquet"
    older.to_parquet(source)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    score_file(
        source, tmp_path / "out.parquet", model, config=config, as_of=dt.date(2026, 7, 1), store=ResultStore(url)
    )
    _, figures = ResultStore(url).monitoring_report()
    assert figures["retrain_recommended"] and any("PSI" in rule for rule in figures["rules_fired"])
    report = tmp_path / "monitor.html"
    result = CliRunner().invoke(app, ["monitor", "--lang", "en", "--store", url, "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "retraining recommended" in result.output.lower() and report.read_text().count("</tr>") > 10
