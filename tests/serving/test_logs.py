"""JSON log lines from ``riskmodel serve`` (SPEC 16 "Logs") and its operations port, as a real process."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from serving.logs import JsonLineFormatter, NoRawPath
from tests.serving.conftest import ALL_KEY

ESCAPE = "\x1b[31m"
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(url: str, process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    deadline = time.time() + 300  # a loaded machine loads the model slowly
    while time.time() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped: {process.communicate()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError(f"{url} never answered")


@pytest.fixture(scope="module")
def server_lines(served, tmp_path_factory):
    """Runs ``riskmodel serve --metrics-port`` on loopback, makes requests, stops it; yields its output
    lines (standard output and error) and what the requests answered."""
    _, model_dir, store_url = served
    port, metrics_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "RISKMODEL_API_KEYS": json.dumps({hashlib.sha256(ALL_KEY.encode()).hexdigest(): ["*"]}),
        "COLUMNS": "200",
    }
    folder = tmp_path_factory.mktemp("serve")
    out, err = (folder / "stdout").open("w+b"), (folder / "stderr").open("w+b")
    command = [sys.executable, "-m", "riskmodel", "serve", "--port", str(port), "--metrics-port", str(metrics_port)]
    process = subprocess.Popen(
        [*command, "--model", model_dir, "--store", store_url], cwd=ROOT, env=env, stdout=out, stderr=err
    )
    answers: dict[str, int] = {}
    try:
        base, operations = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}"
        _wait(f"{base}/healthz", process)
        _wait(f"{operations}/healthz", process)
        key = {"X-API-Key": ALL_KEY, "X-Request-ID": "req-test-1"}
        answers["worklist"] = httpx.get(f"{base}/v1/teams/T00001/worklist?capacity=3", headers=key).status_code
        answers["unauthorised"] = httpx.get(f"{base}/v1/teams/T00001/worklist").status_code
        encoded = "".join(f"%{ord(ch):02X}" for ch in ESCAPE)  # the client sends it encoded; the server decodes it
        answers["escape"] = httpx.get(f"{base}/v1/teams/{encoded}x/worklist", headers=key).status_code
        answers["raw_escape"] = _raw_get(port, f"/{ESCAPE}boom")
        answers["main_metrics"] = httpx.get(f"{base}/metrics").status_code
        answers["metrics"] = httpx.get(f"{operations}/metrics").status_code
        answers["readyz"] = httpx.get(f"{operations}/readyz").status_code
        answers["operations_api"] = httpx.get(f"{operations}/v1/model", headers=key).status_code
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    out.seek(0)
    err.seek(0)
    return out.read(), err.read(), answers


def _raw_get(port: int, path: str) -> int:
    """A request whose path holds raw bytes an HTTP client would percent-encode."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1"))
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0


def test_the_server_answers_and_operations_have_their_own_port(server_lines):
    _, _, answers = server_lines
    assert answers["worklist"] == 200 and answers["unauthorised"] == 401 and answers["escape"] in (403, 404)
    assert answers["main_metrics"] == 404 and answers["metrics"] == 200 and answers["readyz"] == 200
    assert answers["operations_api"] == 404


def test_every_line_is_json_with_timestamp_level_and_logger(server_lines):
    out, err, _ = server_lines
    lines = [line for line in (out + err).decode("utf-8").splitlines() if line.strip()]
    assert lines, "the server wrote nothing"
    loggers = set()
    for line in lines:
        record = json.loads(line)
        stamp = dt.datetime.fromisoformat(record["timestamp"])
        assert stamp.utcoffset() == dt.timedelta(0), line
        assert record["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") and record["logger"], line
        assert "message" in record
        loggers.add(record["logger"])
    assert "uvicorn.error" in loggers and "riskmodel.serving.access" in loggers


def test_request_lines_carry_the_route_template_and_request_id_never_the_raw_path(server_lines):
    out, err, _ = server_lines
    text = (out + err).decode("utf-8")
    for raw in ("\x1b", "\\u001b", "31m", "boom", "T00001/worklist"):  # no path, no escape code, even JSON-escaped
        assert raw not in text, raw
    requests = [json.loads(line) for line in text.splitlines() if '"riskmodel.serving.access"' in line]
    routes = {record["route"] for record in requests}
    assert "/v1/teams/{team_id}/worklist" in routes
    assert all(record["request_id"] for record in requests)
    assert "req-test-1" in {record["request_id"] for record in requests}
    assert {record["status"] for record in requests if record["route"] == "/v1/teams/{team_id}/worklist"} >= {200, 401}


def test_uvicorn_access_lines_lose_their_path():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "GET", "/x", "1.1", 200),
        None,
    )
    assert NoRawPath().filter(record)
    line = json.loads(JsonLineFormatter().format(record))
    assert line["message"] == "GET 200" and line["logger"] == "uvicorn.access" and line["level"] == "INFO"
