"""The dashboard in a real headless browser (SPEC 11): sign in, open a team, check a tile against the API,
record an outcome and see the entry leave the list, and no request outside the server. Screenshots are kept
in ``test-artifacts/`` (or ``RISKMODEL_ARTIFACTS``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from riskmodel.batch import score_file
from riskmodel.store.batches import ResultStore
from riskmodel.synth import write_population
from riskmodel.synth.population import events_path
from serving.app import create_app
from tests.serving.live import serving

KEY = "dashboard-key"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(os.environ.get("RISKMODEL_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))

pytestmark = pytest.mark.slow


def _browser_or_skip() -> None:
    if CHROMIUM and CHROMEDRIVER:
        return
    if os.environ.get("RISKMODEL_REQUIRE_BROWSER"):
        pytest.fail("Chromium and ChromeDriver are required (apt-get install chromium chromium-driver)")
    pytest.skip("no Chromium/ChromeDriver here (apt-get install chromium chromium-driver; .ci/run installs them)")


@pytest.fixture(scope="module")
def server(tmp_path_factory, model, config):
    _browser_or_skip()
    folder = tmp_path_factory.mktemp("dashboard")
    source = write_population(
        folder / "teams.parquet", 2400, teams=2, seed=3, as_of=dt.date(2026, 7, 1), history_years=3
    )
    store_url = f"sqlite:///{folder / 'store.db'}"
    score_file(
        source,
        folder / "scored.parquet",
        model,
        config=config,
        as_of=dt.date(2026, 7, 1),
        store=ResultStore(store_url),
        events_path=events_path(source),
    )
    keys = {hashlib.sha256(KEY.encode()).hexdigest(): {"label": "dashboard", "teams": ["*"]}}
    settings = config.model_validate(
        {**config.model_dump(), "serving": {**config.serving.model_dump(), "api_keys": keys}}
    )
    app = create_app(settings, model_uri=str(model.save(folder / "model")), store_url=store_url, poll=False)
    with serving(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1600"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _wait(condition, seconds=20.0, page=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    seen = ""
    if page is not None:
        from selenium.webdriver.common.by import By

        seen = f"; the status line reads {page.find_element(By.ID, 'status').text!r}"
    raise AssertionError(f"the page did not get there in time{seen}")


def test_a_nurse_works_the_list_in_the_dashboard(server, browser):
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.get(f"{server}/ui/")
    assert "慢病管理工作台" in browser.title  # Chinese by default
    browser.find_element(By.ID, "key").send_keys(KEY)
    browser.find_element(By.CSS_SELECTOR, "#signin-form button").click()
    tile = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, '[data-indicator="hypertension:control_rate"] .figure'))
    browser.save_screenshot(str(ARTIFACTS / "dashboard-team-zh.png"))
    team = browser.find_element(By.ID, "unit").get_attribute("value")
    api = httpx.get(f"{server}/v1/teams/{team}/indicators", headers={"X-API-Key": KEY}).json()
    control = next(
        i for i in api["units"][0]["indicators"] if (i["disease"], i["indicator"]) == ("hypertension", "control_rate")
    )
    assert tile[0].text == f"{control['rate'] * 100:.1f}%"

    rows = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#worklist tbody tr"))
    target = None
    listing = httpx.get(f"{server}/v1/teams/{team}/worklist?capacity=50", headers={"X-API-Key": KEY}).json()
    single = {e["resident_id"] for e in listing["entries"] if len(e["actions"]) == 1}
    for row in rows:
        if row.get_attribute("data-resident") in single:
            target = row.get_attribute("data-resident")
            row.find_element(By.CSS_SELECTOR, 'button[data-outcome="agreed"]').click()
            break
    assert target is not None
    _wait(lambda: not browser.find_elements(By.CSS_SELECTOR, f'#worklist tr[data-resident="{target}"]'), page=browser)
    assert target in browser.find_element(By.ID, "status").text
    browser.save_screenshot(str(ARTIFACTS / "dashboard-after-outcome.png"))

    browser.find_element(By.ID, "lang").click()
    _wait(lambda: browser.find_element(By.CSS_SELECTOR, "h1").text == "Chronic disease workbench")
    browser.find_element(By.ID, "county-link").click()
    _wait(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#rank-units .bar")) == 2)
    browser.save_screenshot(str(ARTIFACTS / "dashboard-county-en.png"))

    requests = [
        json.loads(entry["message"])["message"]["params"]["request"]["url"]
        for entry in browser.get_log("performance")
        if json.loads(entry["message"])["message"]["method"] == "Network.requestWillBeSent"
    ]
    assert requests and all(url.startswith(server) or url.startswith("data:") for url in requests), requests
