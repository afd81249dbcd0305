"""The monitoring report (SPEC 12, 15): Chinese by default, English on request, each feature's PSI band named
(< 0.1 stable, 0.1-0.25 moderate, > 0.25 major shift)."""

from __future__ import annotations

import pytest

from riskmodel.cli.monitor_report import psi_band, write_html


@pytest.mark.parametrize(
    ("value", "band"),
    [(0.0, "stable"), (0.0999, "stable"), (0.1, "moderate"), (0.25, "moderate"), (0.2501, "major"), (0.36, "major")],
)
def test_psi_bands_at_their_boundaries(value, band):
    assert psi_band(value) == band


FEATURES = {
    "height_cm": {"psi": 0.36, "missing_share": 0.0, "reference_missing_share": 0.0},
    "waist_cm": {"psi": 0.12, "missing_share": 0.01, "reference_missing_share": 0.01},
    "age_years": {"psi": 0.02, "missing_share": 0.0, "reference_missing_share": 0.0},
}
PART = {
    "residents": 1000,
    "p_chronic": {"mean": 0.1, "psi": 0.05},
    "performance": {"n": 10, "positives": 2, "auroc": 0.8, "training_auroc": 0.82, "observed_expected": 1.0},
    "features": FEATURES,
}
FIGURES = {
    "diseases": {"diabetes": PART},
    "retrain_recommended": True,
    "rules_fired": ["diabetes: PSI 0.36 on height_cm"],
}


@pytest.mark.parametrize(
    ("lang", "words", "absent"),
    [
        (
            "zh",
            ("模型监测", "糖尿病", "显著偏移", "中度偏移", "稳定", "建议重新训练", "缺失比例"),
            ("major shift", "missing"),
        ),
        (
            "en",
            ("Monitoring", "diabetes", "major shift", "moderate shift", "stable", "Retraining recommended"),
            ("显著", "糖尿病"),
        ),
    ],
)
def test_report_names_each_features_band_in_the_language(tmp_path, lang, words, absent):
    path = tmp_path / f"report-{lang}.html"
    write_html(path, "b1", FIGURES, lang)
    text = path.read_text(encoding="utf-8")
    for word in words:
        assert word in text, word
    for word in absent:
        assert word not in text, word
    assert "class='psi-major'><td>height_cm" in text and "class='psi-moderate'><td>waist_cm" in text
    assert "class='psi-stable'><td>age_years" in text
    assert "http" not in text  # self-contained
