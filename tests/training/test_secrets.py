"""No URL password and no API key reaches MLflow parameters, a model's files or the output (SPEC 16)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from riskmodel.config import load_config
from riskmodel.redaction import redact_url
from riskmodel.synth import write_population
from tests.conftest import SYNTH_AS_OF

PASSWORD = "Pl4nted-Passw0rd-7781"
LABEL = "planted-key-label-5521"
DIGEST = hashlib.sha256(b"planted-api-key-0042").hexdigest()
STORE_URL = f"postgresql+psycopg://riskuser:{PASSWORD}@db.example.internal:5432/riskmodel"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (STORE_URL, "postgresql+psycopg://riskuser:***@db.example.internal:5432/riskmodel"),
        ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///riskmodel.db", "sqlite:///riskmodel.db"),
        ("http://h:5000/path", "http://h:5000/path"),
    ],
)
def test_a_url_password_is_masked(url, shown):
    assert redact_url(url) == shown


def test_the_public_config_has_no_keys_and_no_password(monkeypatch):
    monkeypatch.setenv("RISKMODEL_STORE_URL", STORE_URL)
    monkeypatch.setenv("RISKMODEL_API_KEYS", json.dumps({DIGEST: {"label": LABEL, "teams": ["*"]}}))
    config = load_config()
    assert config.store.url == STORE_URL and DIGEST in config.serving.api_keys  # the running config keeps them
    text = json.dumps([config.public_dump(), config.as_flat_dict()])
    for planted in (PASSWORD, DIGEST, LABEL):
        assert planted not in text
    assert "riskuser:***@db.example.internal" in text


def test_a_training_run_logs_no_password_and_no_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISKMODEL_STORE_URL", STORE_URL)
    monkeypatch.setenv("RISKMODEL_API_KEYS", json.dumps({DIGEST: {"label": LABEL, "teams": ["*"]}}))
    monkeypatch.setenv("RISKMODEL_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    defaults = yaml.safe_load((Path(__file__).resolve().parents[2] / "configs" / "default.yaml").read_text())
    defaults["model"]["selection"] = "fixed"  # a quick training: the secrets path is what is tested
    settings = tmp_path / "fast.yaml"
    settings.write_text(yaml.safe_dump(defaults), encoding="utf-8")
    data = write_population(tmp_path / "train.parquet", 6000, teams=5, seed=11, as_of=SYNTH_AS_OF)

    from riskmodel.cli.commands import app

    result = CliRunner().invoke(app, ["train", "--data", str(data), "--config", str(settings)])
    assert result.exit_code == 0, result.output
    written = [path for path in tmp_path.rglob("*") if path.is_file() and path not in (data, settings)]
    assert any(path.name == "config.yaml" for path in written)  # the model's files were logged here
    assert (tmp_path / "mlflow.db").exists()
    for path in written:
        content = path.read_bytes()
        for planted in (PASSWORD, DIGEST, LABEL):
            assert planted.encode() not in content, f"{planted} in {path}"
    for planted in (PASSWORD, DIGEST, LABEL):
        assert planted not in result.output
