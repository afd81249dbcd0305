"""The typed configuration (STYLE rule 6)."""

from __future__ import annotations

import hashlib
import json

import pytest

from riskmodel.config import GlycaemiaConfig, RiskConfig, load_config
from riskmodel.exceptions import ConfigError


def test_default_config_loads():
    config = load_config(environ={})
    assert config.tiers.glucose_result_valid_days == 365
    assert config.screening.diabetes_interval_days.other == 1095


def test_unordered_intervals_and_unknown_keys_are_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("screening:\n  diabetes_interval_days: {prediabetes: 400, high_risk: 365, other: 1095}\n")
    with pytest.raises(ConfigError, match="prediabetes <= high_risk, by_age <= other"):
        load_config(bad, environ={})
    typo = tmp_path / "typo.yaml"
    typo.write_text("tiers:\n  chronic_treshold: 0.4\n")
    with pytest.raises(ConfigError, match="chronic_treshold"):
        load_config(typo, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.yaml", environ={})


def test_environment_overrides_deployment_values_only():
    digest = hashlib.sha256(b"secret").hexdigest()
    config = load_config(
        environ={
            "RISKMODEL_STORE_URL": "sqlite:///x.db",
            "RISKMODEL_PORT": "9000",
            "RISKMODEL_API_KEYS": json.dumps({digest: ["team-a"]}),
        }
    )
    assert config.store.url == "sqlite:///x.db" and config.serving.port == 9000
    assert config.serving.api_keys[digest].teams == ("team-a",)
    assert config.serving.api_keys[digest].label == f"key-{digest[:8]}"
    assert "serving.api_keys" not in config.as_flat_dict()


def test_plain_text_keys_are_refused():
    with pytest.raises(ConfigError, match="SHA-256"):
        load_config(environ={"RISKMODEL_API_KEYS": json.dumps({"my-plain-key": ["*"]})})


def test_hba1c_prediabetes_follows_the_criteria_unless_configured():
    config = load_config(environ={})
    assert config.glycaemia.criteria == "who" and config.glycaemia.high_risk_profile == "cds2020"
    assert config.glycaemia.hba1c_prediabetes is False  # CDS 2020 defines no HbA1c prediabetes range
    assert GlycaemiaConfig().hba1c_prediabetes is False
    assert GlycaemiaConfig(criteria="ada").hba1c_prediabetes is True  # ADA Standards of Care: 5.7-6.4 %
    assert GlycaemiaConfig(criteria="ada", hba1c_prediabetes=False).hba1c_prediabetes is False
    assert GlycaemiaConfig(hba1c_prediabetes=True).hba1c_prediabetes is True
    assert RiskConfig.model_validate({"glycaemia": {"criteria": "ada"}}).glycaemia.hba1c_prediabetes is True
