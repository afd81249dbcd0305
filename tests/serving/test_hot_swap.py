"""A new champion is picked up by the running API without failing or dropping a request (SPEC section 8)."""

from __future__ import annotations

import hashlib
import socket
import threading
import time

import httpx
import pytest
import uvicorn

from riskmodel.config import RateLimits
from serving.app import create_app
from tests.factories import make_resident
from training.promote import promote
from training.tracking import log_training

KEY = "hot-swap-key"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_champion_switch_under_continuous_requests(trained, tracking_config):
    config = tracking_config.model_copy(
        update={
            "serving": tracking_config.serving.model_copy(
                update={
                    "api_keys": {hashlib.sha256(KEY.encode()).hexdigest(): ("*",)},
                    "model_poll_seconds": 0.2,
                    "limits": RateLimits(per_key_per_minute=10**6, per_address_per_minute=10**6),  # load, not rates
                }
            )
        }
    )
    first = log_training(trained, config, data_sources=["a"])
    promote(config)
    app = create_app(config, model_uri="models:/riskmodel@champion")
    port = _port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started

    versions: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        body = {"records": [make_resident()]}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": KEY}, timeout=10) as http:
            for _ in range(5000):  # bounded
                if stop.is_set():
                    break
                try:
                    response = http.post("/v1/assessments", json=body)
                    if response.status_code != 200:
                        failures.append(f"{response.status_code}: {response.text[:200]}")
                    else:
                        versions.append(response.json()["model_version"])
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

    clients = [threading.Thread(target=hammer) for _ in range(2)]
    for client in clients:
        client.start()
    try:
        time.sleep(0.5)
        second = log_training(trained, config, data_sources=["b"])
        promote(config, version=second, force=True, reason="hot-swap test")
        deadline = time.time() + 20
        while time.time() < deadline and (not versions or versions[-1] != f"riskmodel/{second}"):
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=15)
        server.should_exit = True
        thread.join(timeout=15)
    assert not failures, failures[:3]
    assert f"riskmodel/{first}" in versions and versions[-1] == f"riskmodel/{second}"
    switch = versions.index(f"riskmodel/{second}")
    assert len(versions) > switch > 0
