"""Shared fixtures: config, a small synthetic population, a trained model, stores."""

from __future__ import annotations

import datetime as dt
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from riskmodel.config import RiskConfig, load_config
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.reading import read_residents
from riskmodel.synth import write_population

NHANES = Path(
    os.environ.get("RISKMODEL_NHANES_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data" / "nhanes"
)


@pytest.fixture(scope="session")
def nhanes() -> Path:
    """The NHANES folder (``../shared/data/nhanes`` beside the checkout, or ``RISKMODEL_NHANES_DIR``)."""
    if not (NHANES / "nhanes_2015_2016.csv").exists():
        message = f"the NHANES files are not at {NHANES} (set RISKMODEL_NHANES_DIR)"
        if os.environ.get("RISKMODEL_REQUIRE_NHANES"):
            pytest.fail(message)  # CI has ../shared beside the clone: missing data is a failure there
        pytest.skip(message)
    return NHANES


SYNTH_AS_OF = dt.date(2026, 7, 1)


@pytest.fixture(scope="session")
def config() -> RiskConfig:
    return load_config()


@pytest.fixture(scope="session")
def population_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("population") / "residents.parquet"
    return write_population(path, 24_000, teams=20, seed=7, as_of=SYNTH_AS_OF)


@pytest.fixture(scope="session")
def population(population_file: Path) -> pd.DataFrame:
    return read_residents(population_file).residents


def _code_digest() -> str:
    """A digest of everything the trained fixture depends on: the package's and training's code and the config."""
    import hashlib

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    sources = [*root.glob("riskmodel/**/*.py"), *root.glob("training/**/*.py"), root / "configs" / "default.yaml"]
    for path in sorted(sources):
        digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()[:20]


@pytest.fixture(scope="session")
def trained(population: pd.DataFrame, config: RiskConfig):  # type: ignore[no-untyped-def]
    """The model trained on the synthetic population. ``RISKMODEL_TEST_MODEL_CACHE=DIR`` keeps it between runs,
    keyed by a digest of the code and config it depends on (a local convenience; CI trains it afresh)."""
    import pickle

    from training.train import train_risk_model

    cache = os.environ.get("RISKMODEL_TEST_MODEL_CACHE")
    path = Path(cache) / f"trained-{_code_digest()}.pkl" if cache else None
    if path is not None and path.exists():
        return pickle.loads(path.read_bytes())
    result = train_risk_model(population, config)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pickle.dumps(result))
        partial.replace(path)
    return result


@pytest.fixture(scope="session")
def model(trained) -> RiskModel:  # type: ignore[no-untyped-def]
    return trained.model


@pytest.fixture()
def tracking_config(tmp_path: Path, config: RiskConfig, monkeypatch: pytest.MonkeyPatch) -> RiskConfig:
    """Config pointing MLflow and the store at fresh SQLite files in a temporary working directory."""
    monkeypatch.chdir(tmp_path)
    return config.model_copy(
        update={
            "tracking": config.tracking.model_copy(update={"uri": f"sqlite:///{tmp_path / 'mlflow.db'}"}),
            "store": config.store.model_copy(update={"url": f"sqlite:///{tmp_path / 'riskmodel.db'}"}),
        }
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL URL: RISKMODEL_TEST_POSTGRES_URL if set (CI), else a throwaway local cluster when the
    server binaries are installed; skipped when neither is available."""
    url = os.environ.get("RISKMODEL_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [shutil.which("initdb") or ""]
    initdb = candidates[-1]
    if not initdb or not os.path.exists(initdb):
        message = "no PostgreSQL server available (set RISKMODEL_TEST_POSTGRES_URL or install postgresql)"
        if os.environ.get("RISKMODEL_REQUIRE_POSTGRES"):
            pytest.fail(message)  # CI installs the server: a missing one is a failure there, not a skip
        pytest.skip(message)
    bindir = Path(initdb).parent
    folder = Path(tempfile.mkdtemp(prefix="riskmodel-pg-"))  # outside pytest's 0700 tree: postgres must reach it
    data, port = folder / "data", _free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(folder, "postgres")
    subprocess.run(
        [*as_postgres, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *as_postgres,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "log"),
            "-w",
            "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            ready = subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True
            )
            if ready.returncode == 0:
                break
            time.sleep(0.2)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)


SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


@pytest.fixture()
def snapshot_text():  # type: ignore[no-untyped-def]
    """Compare text with a frozen, hand-checked file in tests/snapshots; RISKMODEL_UPDATE_SNAPSHOTS=1 rewrites it."""

    def check(name: str, text: str) -> None:
        path = SNAPSHOTS / name
        if os.environ.get("RISKMODEL_UPDATE_SNAPSHOTS") == "1":
            SNAPSHOTS.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"no snapshot {path}: run with RISKMODEL_UPDATE_SNAPSHOTS=1, check it by hand, commit it"
        assert text == path.read_text(encoding="utf-8")

    return check
