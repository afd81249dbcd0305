"""An API over a real trained model and a store holding a scored batch."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from riskmodel.batch import score_file
from riskmodel.config import RateLimits
from riskmodel.store.batches import ResultStore
from serving.app import create_app
from tests.conftest import SYNTH_AS_OF

ALL_KEY, TEAM_KEY = "key-for-all-teams", "key-for-team-t00001"
GENEROUS_LIMITS = RateLimits(per_key_per_minute=100_000, per_address_per_minute=100_000, auth_failures=10_000)
"""The shared app serves many tests from one address within a minute: its rates are not what they test."""


@pytest.fixture(scope="session")
def served(tmp_path_factory, model, config, population_file):
    folder = tmp_path_factory.mktemp("served")
    model_dir = model.save(folder / "model")
    store_url = f"sqlite:///{folder / 'store.db'}"
    score_file(
        population_file,
        folder / "scored.parquet",
        model,
        config=config,
        as_of=SYNTH_AS_OF,
        store=ResultStore(store_url),
    )
    keys = {
        hashlib.sha256(ALL_KEY.encode()).hexdigest(): ("*",),
        hashlib.sha256(TEAM_KEY.encode()).hexdigest(): ("T00001",),
    }
    settings = config.model_copy(
        update={
            "serving": config.serving.model_copy(
                update={"api_keys": keys, "max_body_bytes": 400_000, "limits": GENEROUS_LIMITS}
            )
        }
    )
    return settings, str(model_dir), store_url


@pytest.fixture(scope="session")
def app(served):
    settings, model_dir, store_url = served
    return create_app(settings, model_uri=model_dir, store_url=store_url, poll=False)


@pytest.fixture(scope="session")
def client(app):
    with TestClient(app) as test_client:
        yield test_client
