"""The registered model served by MLflow's own server, in a fresh environment, answers as the API does (SPEC 7, 10).

The model is logged from code with the package shipped beside it; ``mlflow models serve --env-manager uv``
builds a new environment from the model's requirements alone (this project is not installed there) and
serves it on loopback. The same records, booleans left missing included, go to it and to the API.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from riskmodel.records.schema import RESIDENT_COLUMNS
from serving.app import create_app
from serving.auth import digest
from training.promote import promote
from training.tracking import log_training

pytestmark = pytest.mark.slow
AS_OF = "2026-07-01"
BOOLEANS = [c.name for c in RESIDENT_COLUMNS if c.kind == "bool"]


def _json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Records as a client sends them: ISO dates, null for missing, booleans left missing in turn."""
    records = []
    for i, row in enumerate(frame.to_dict(orient="records")):
        record: dict[str, Any] = {}
        for column in RESIDENT_COLUMNS:
            value = row.get(column.name)
            if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
                record[column.name] = None
            elif column.kind == "date":
                record[column.name] = pd.Timestamp(value).date().isoformat()
            elif column.kind == "bool":
                record[column.name] = bool(value)
            elif column.kind in ("float", "int"):
                record[column.name] = float(value)
            else:
                record[column.name] = str(value)
        for name in BOOLEANS[i % 3 :: 3]:  # every resident has a third of the yes/no answers missing
            record[name] = None
        records.append(record)
    return records


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def mlflow_server(trained, tracking_config, tmp_path):
    """The registered champion served by ``mlflow models serve`` in a fresh uv environment."""
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(uv).exists():
        pytest.fail("uv is needed to build the model's environment (it is in the [dev] extra)")
    version = log_training(trained, tracking_config, data_sources=["residents.parquet"])
    promote(tracking_config)
    port = _free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_config.tracking.uri,
        "PATH": f"{Path(uv).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "UV_PYTHON_DOWNLOADS": "never",  # the environment uses this machine's Python, nothing is fetched for it
        "MLFLOW_ENV_ROOT": str(tmp_path / "envs"),  # fresh: no environment left by an earlier run
    }
    if os.environ.get("PIP_INDEX_URL") and not os.environ.get("UV_DEFAULT_INDEX"):
        env["UV_DEFAULT_INDEX"] = os.environ["PIP_INDEX_URL"]  # the registry pip is pointed at, for uv too
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", "models:/riskmodel@champion",
         "--env-manager", "uv", "-h", "127.0.0.1", "-p", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 540
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail("mlflow models serve stopped:\n" + (tmp_path / "serve.log").read_text()[-3000:])
            try:
                if httpx.get(f"{url}/ping", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(2)
        else:
            pytest.fail("mlflow models serve did not answer within 9 minutes")
        yield url, version
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
        log.close()


def test_mlflow_serve_answers_as_the_api(mlflow_server, tracking_config, population):
    url, version = mlflow_server
    records = _json_records(population.sample(300, random_state=5))
    served = httpx.post(
        f"{url}/invocations", json={"dataframe_records": records, "params": {"as_of": AS_OF}}, timeout=120
    )
    assert served.status_code == 200, served.text[:500]
    predictions = pd.DataFrame(served.json()["predictions"])

    keys = {digest("a-county-key"): ("*",)}
    settings = tracking_config.model_copy(
        update={"serving": tracking_config.serving.model_copy(update={"api_keys": keys})}
    )
    app = create_app(settings, model_uri="models:/riskmodel@champion", poll=False)
    with TestClient(app) as client:
        answer = client.post(
            f"/v1/assessments?as_of={AS_OF}", json={"records": records}, headers={"X-API-Key": "a-county-key"}
        )
    assert answer.status_code == 200, answer.text[:500]
    api = answer.json()["assessments"]

    assert predictions["errors"].isna().all()
    assert list(predictions["resident_id"]) == [a["resident_id"] for a in api]
    assert set(predictions["model_version"]) == {f"riskmodel/{version}"} == {answer.json()["model_version"]}
    for disease in ("diabetes", "hypertension"):
        for part in ("tier", "tier_source", "confirmed", "guideline_high_risk"):
            assert list(predictions[f"{disease}_{part}"]) == [a[disease][part] for a in api], (disease, part)
        for part in ("p_healthy", "p_high_risk", "p_chronic"):
            theirs = predictions[f"{disease}_{part}"].to_numpy(dtype=float)
            ours = np.array([a[disease][part] for a in api])
            assert np.abs(theirs - ours).max() <= 1e-6, (disease, part)
    assert list(predictions["overall_tier"]) == [a["overall_tier"] for a in api]
    assert list(predictions["action"]) == [a["action"] for a in api]
    assert list(predictions["due_date"]) == [a["due_date"] for a in api]
    assert list(predictions["cdrs_points"]) == [a["cdrs"]["total"] for a in api]

    # a missing answer stays missing: "unknown" and "no" give different probabilities for someone
    one = dict(records[0], physically_active=None, family_history_diabetes=None)
    answers = {}
    for value in (None, False, True):
        body = {"dataframe_records": [dict(one, family_history_diabetes=value)], "params": {"as_of": AS_OF}}
        answers[value] = httpx.post(f"{url}/invocations", json=body, timeout=60).json()["predictions"][0]
    assert answers[None]["diabetes_p_chronic"] not in (answers[False]["diabetes_p_chronic"], None)

    # a bad row is returned with its reason and the others are assessed; as_of is honoured
    bad = dict(records[1], age_years=-3)
    body = {"dataframe_records": [bad, records[2]], "params": {"as_of": "2025-01-01"}}
    rows = httpx.post(f"{url}/invocations", json=body, timeout=60).json()["predictions"]
    assert "age_years" in rows[0]["errors"] and rows[0]["diabetes_tier"] is None
    assert rows[1]["errors"] is None and rows[1]["diabetes_tier"] is not None
    assert dt.date.fromisoformat(rows[1]["due_date"]) <= dt.date(2026, 12, 31)
