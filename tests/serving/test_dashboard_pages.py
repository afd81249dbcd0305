"""The dashboard's pages in a real headless Chromium (SPEC 15): /docs rendered by Swagger UI 5, charts people
can read, the county page with its funnel plot and drill-down (English throughout), the work list's named
bands, dates, removal and reinstatement, and the A4 print view printed to PDF. Screenshots and the PDFs are
kept in ``test-artifacts/`` (or ``RISKMODEL_ARTIFACTS``); the path is printed."""

from __future__ import annotations

import base64
import io
import math
import re
import time
import unicodedata

import httpx
import pytest

from tests.serving.test_dashboard import ARTIFACTS, KEY, _wait, browser, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
HEADERS = {"X-API-Key": KEY}
BAND_NAMES = {
    "zh": {1: "紧急", 2: "确诊与转诊", 3: "随访", 4: "筛查"},
    "en": {1: "urgent", 2: "confirm and refer", 3: "follow-up", 4: "screening"},
}


def _shot(browser, name: str) -> None:  # noqa: F811
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    browser.save_screenshot(str(path))
    print(f"screenshot: {path}")


def _open(browser, server, query: str = "") -> None:  # noqa: F811
    """Open the dashboard signed in (the key in the session, as after signing in)."""
    browser.get(f"{server}/ui/")
    browser.execute_script("sessionStorage.clear(); sessionStorage.setItem('apiKey', arguments[0]);", KEY)
    browser.get(f"{server}/ui/{query}")


def _team_page(browser, server, lang: str):  # noqa: F811
    from selenium.webdriver.common.by import By

    _open(browser, server, f"?lang={lang}")
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#worklist tbody tr[data-resident]"), 60)
    _wait(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#charts .chart")) == 6)
    return browser.find_element(By.ID, "unit").get_attribute("value")


def _text(browser) -> str:  # noqa: F811
    """Everything a reader sees, the options of every drop-down and the document title included, less the parts
    marked as Chinese (the switch to the Chinese page is labelled 中文, lang="zh-CN", WCAG 3.1.2)."""
    return browser.execute_script(
        "const marked = [...document.querySelectorAll('body [lang^=zh]')];"
        "const saved = marked.map((node) => node.textContent); marked.forEach((node) => { node.textContent = ''; });"
        "const text = [document.title, document.body.innerText,"
        " ...[...document.querySelectorAll('option')].map((o) => o.textContent)].join('\\n');"
        "marked.forEach((node, i) => { node.textContent = saved[i]; }); return text;"
    )


def test_docs_render_the_openapi_document_with_swagger_ui_5(server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(f"{server}/docs")
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, ".opblock"), 60)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "/v1/assessments" in text and "/v1/teams/{team_id}/worklist" in text
    assert "Unable to render" not in text
    version = browser.execute_script("return window.versions && window.versions.swaggerUI.version")
    assert version and version.startswith("5."), version
    assert httpx.get(f"{server}/openapi.json").json()["openapi"].startswith("3.1")
    _shot(browser, "docs.png")


def test_team_charts_are_readable(server, browser):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    team = _team_page(browser, server, "zh")
    api = httpx.get(f"{server}/v1/teams/{team}/indicators?months=12", headers=HEADERS).json()
    items = {(i["disease"], i["indicator"]): i for i in api["units"][0]["indicators"]}
    control = items[("hypertension", "control_rate")]
    chart = browser.find_element(By.CSS_SELECTOR, '[data-chart="hypertension:control_rate"]')
    ticks = [node.text for node in chart.find_elements(By.CSS_SELECTOR, "text.tick")]
    for tick in ("0%", "25%", "50%", "75%", "100%"):
        assert tick in ticks
    months = [node.text for node in chart.find_elements(By.CSS_SELECTOR, "text.month")]
    assert months == [f"{int(point['ref_date'][5:7])}月" for point in control["trend"]] and len(months) == 12
    latest = [point for point in control["trend"] if point["rate"] is not None][-1]
    assert chart.find_element(By.CSS_SELECTOR, "text.latest").text == f"{latest['rate'] * 100:.1f}%"
    assert chart.find_element(By.CSS_SELECTOR, "text.target-label").text == f"目标 {control['target'] * 100:.0f}%"
    assert "目标" in chart.find_element(By.CSS_SELECTOR, ".legend").text
    point = chart.find_elements(By.CSS_SELECTOR, "circle.hit")[-3]
    ActionChains(browser).move_to_element(point).perform()
    tip = _wait(
        lambda: browser.find_element(By.ID, "tooltip").is_displayed() and browser.find_element(By.ID, "tooltip")
    )
    month = point.get_attribute("data-month")
    shown = next(p for p in control["trend"] if p["ref_date"].startswith(month))
    assert f"{shown['rate'] * 100:.1f}%" in tip.text and month in tip.text
    # Tiles count whole residents: no fraction of a person anywhere in a tile.
    for fraction in browser.find_elements(By.CSS_SELECTOR, ".tile .fraction"):
        assert not re.search(r"\d\.\d+ */|/ *约?\d[\d,]*\.\d", fraction.text), fraction.text
    # The HEARTS breakdown: one stacked bar a month, four parts that sum to the denominator.
    hearts = browser.find_element(By.CSS_SELECTOR, '[data-chart="hypertension:hearts_breakdown"]')
    stacks = hearts.find_elements(By.CSS_SELECTOR, "g.stack")
    denominators = [p["denominator"] for p in items[("hypertension", "hearts_controlled")]["trend"]]
    assert len(stacks) == sum(1 for d in denominators if d)
    legend = hearts.find_element(By.CSS_SELECTOR, ".legend").text
    for word in ("控制", "未控制", "就诊未测量", "近3个月未就诊"):
        assert word in legend
    for stack in stacks:
        heights = [float(rect.get_attribute("height")) for rect in stack.find_elements(By.TAG_NAME, "rect")]
        assert len(heights) == 4
    full = browser.execute_script(
        "const r = [...arguments[0].querySelectorAll('rect')]; return [Math.min(...r.map((x) => +x.getAttribute('y'))),"
        " Math.max(...r.map((x) => +x.getAttribute('y') + +x.getAttribute('height')))];",
        stacks[-1],
    )
    zero = browser.execute_script(
        "return [...arguments[0].querySelectorAll('text.tick')].map((t) => [t.textContent, +t.getAttribute('y')]);",
        hearts,
    )
    top, bottom = next(y for label, y in zero if label == "100%") - 3, next(y for label, y in zero if label == "0%") - 3
    assert full[0] == pytest.approx(top, abs=0.5) and full[1] == pytest.approx(bottom, abs=0.5)
    _shot(browser, "team-zh.png")


def test_work_list_names_bands_counts_in_words_and_shows_the_dates(server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    team = _team_page(browser, server, "zh")
    listing = httpx.get(f"{server}/v1/teams/{team}/worklist?capacity=50", headers=HEADERS).json()
    rows = browser.find_elements(By.CSS_SELECTOR, "#worklist tbody tr[data-resident]")
    colours = {}
    for row in rows[:40]:
        band = int(row.get_attribute("data-band"))
        badge = row.find_element(By.CSS_SELECTOR, ".badge")
        assert badge.text == BAND_NAMES["zh"][band]
        colours.setdefault(band, set()).add(badge.value_of_css_property("background-color"))
    assert all(len(found) == 1 for found in colours.values()) and len({c for s in colours.values() for c in s}) == len(
        colours
    )
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#filter-band option")]
    assert options[1:] == [BAND_NAMES["zh"][band] for band in (1, 2, 3, 4)]
    counts = browser.find_element(By.ID, "counts").text
    screen = listing["counts"]["screen"]
    assert f"筛查应办 {screen['due']:,} 项，列出 {screen['listed']:,} 项" in counts
    batch, listed = listing["batch_as_of"], listing["as_of"]
    assert browser.find_element(By.ID, "batch-date").text == batch
    assert browser.find_element(By.ID, "list-date").text == listed
    days = (time.mktime(time.strptime(listed, "%Y-%m-%d")) - time.mktime(time.strptime(batch, "%Y-%m-%d"))) / 86400
    # Warned when the list is more than 2 days after the batch, or the API says the batch itself is old (SPEC 15).
    assert browser.find_element(By.ID, "stale").is_displayed() == (round(days) > 2 or bool(listing.get("stale_batch")))
    # The warning's boundary (more than 2 days), and the other branch's fields when the API sends them.
    stale = "return listDates(arguments[0]).stale;"
    assert browser.execute_script(stale, {"batch_as_of": "2026-07-01", "as_of": "2026-07-03"}) is False
    assert browser.execute_script(stale, {"batch_as_of": "2026-07-01", "as_of": "2026-07-04"}) is True
    assert browser.execute_script(stale, {"batch_date": "2026-07-01", "list_date": "2026-07-09"}) is True
    assert (
        browser.execute_script(stale, {"batch_date": "2026-07-01", "list_date": "2026-07-09", "stale_batch": False})
        is False
    )
    # A contact, when the list carries one, shows name and phone; without one, the resident id alone.
    cell = browser.execute_script(
        "return contactCell({resident_id: 'R1', grid_id: 'G',"
        " contact: {name: '王秀英', phone: '13800000000'}}).innerText;"
    )
    assert "王秀英" in cell and "13800000000" in cell and "R1" in cell
    assert "R1" in browser.execute_script("return contactCell({resident_id: 'R1', grid_id: 'G'}).innerText;")
    _shot(browser, "worklist-zh.png")


def test_removing_a_resident_asks_first_and_can_be_undone(server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    team = _team_page(browser, server, "zh")
    before = httpx.get(f"{server}/v1/teams/{team}/outcomes", headers=HEADERS).json()["outcomes"]
    row = browser.find_elements(By.CSS_SELECTOR, "#worklist tbody tr[data-resident]")[-1]
    resident = row.get_attribute("data-resident")
    row.find_element(By.CSS_SELECTOR, 'button[data-outcome="moved"]').click()
    dialog = _wait(
        lambda: (
            browser.find_element(By.ID, "confirm-dialog").is_displayed()
            and browser.find_element(By.ID, "confirm-dialog")
        )
    )
    assert resident in dialog.text and "迁出" in dialog.text
    _shot(browser, "remove-confirm-zh.png")
    browser.find_element(By.ID, "confirm-no").click()
    time.sleep(0.5)
    assert httpx.get(f"{server}/v1/teams/{team}/outcomes", headers=HEADERS).json()["outcomes"] == before
    assert browser.find_elements(By.CSS_SELECTOR, f'#worklist tr[data-resident="{resident}"]')

    row = browser.find_element(By.CSS_SELECTOR, f'#worklist tr[data-resident="{resident}"]')
    row.find_element(By.CSS_SELECTOR, 'button[data-outcome="moved"]').click()
    _wait(lambda: browser.find_element(By.ID, "confirm-dialog").is_displayed())
    browser.find_element(By.ID, "confirm-yes").click()
    _wait(lambda: not browser.find_elements(By.CSS_SELECTOR, f'#worklist tr[data-resident="{resident}"]'))
    removed = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, f'#removed tr[data-removed="{resident}"]'))
    assert "迁出" in removed[0].text
    outcomes = httpx.get(f"{server}/v1/teams/{team}/outcomes", headers=HEADERS).json()["outcomes"]
    assert [(o["resident_id"], o["outcome"]) for o in outcomes[len(before) :]] == [(resident, "moved")]
    _shot(browser, "removed-zh.png")

    removed[0].find_element(By.CSS_SELECTOR, 'button[data-outcome="reinstate"]').click()
    _wait(lambda: not browser.find_elements(By.CSS_SELECTOR, f'#removed tr[data-removed="{resident}"]'))
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, f'#worklist tr[data-resident="{resident}"]'))
    listing = httpx.get(f"{server}/v1/teams/{team}/worklist?capacity=50", headers=HEADERS).json()
    assert resident in {entry["resident_id"] for entry in listing["entries"]}


def test_county_page_in_english_with_funnel_and_drill_down(server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    _team_page(browser, server, "en")
    assert not CJK.findall(_text(browser)), CJK.findall(_text(browser))[:20]
    _shot(browser, "team-en.png")
    browser.find_element(By.ID, "county-link").click()
    _wait(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#rank-units .bar")) == 2)
    county = httpx.get(f"{server}/v1/indicators?level=county", headers=HEADERS).json()["units"][0]
    teams = httpx.get(f"{server}/v1/indicators?level=team", headers=HEADERS).json()["units"]
    code = browser.find_element(By.ID, "rank-by").get_attribute("value")
    disease, indicator = code.split(":")
    total = next(i for i in county["indicators"] if (i["disease"], i["indicator"]) == (disease, indicator))
    assert f"{total['rate'] * 100:.1f}%" in browser.find_element(By.ID, "county-total").text
    assert browser.find_elements(By.CSS_SELECTOR, "#rank-units .target-mark")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#funnel polyline.limit-95")) == 2
    assert len(browser.find_elements(By.CSS_SELECTOR, "#funnel polyline.limit-998")) == 2

    def side(item):
        p, n = total["rate"], item["denominator"]
        half = 3.09 * math.sqrt(p * (1 - p) / n)
        return "above" if item["rate"] > p + half else "below" if item["rate"] < p - half else "within"

    for unit in teams:
        item = next(i for i in unit["indicators"] if (i["disease"], i["indicator"]) == (disease, indicator))
        dot = browser.find_element(By.CSS_SELECTOR, f'#funnel circle[data-unit="{unit["unit_id"]}"]')
        assert side(item) in dot.get_attribute("class").split()
    text = _text(browser)
    assert not CJK.findall(text), CJK.findall(text)[:20]
    assert "County total" in text and "99.8 % limits" in text
    _shot(browser, "county-en.png")

    team = teams[0]["unit_id"]
    browser.find_element(By.CSS_SELECTOR, f'#rank-units .bar[data-unit="{team}"] a').click()
    grids = httpx.get(f"{server}/v1/indicators?level=grid&team={team}", headers=HEADERS).json()["units"]
    assert grids and all(unit["unit_id"].startswith(team) for unit in grids)
    dots = "return [...document.querySelectorAll('#funnel circle[data-unit]')].map((d) => d.dataset.unit);"
    ids = {u["unit_id"] for u in grids}
    shown = _wait(lambda: (found := set(browser.execute_script(dots))) and found <= ids and found)
    assert shown and team in browser.find_element(By.ID, "crumbs").text
    assert not CJK.findall(_text(browser))
    _shot(browser, "county-team-grids-en.png")
    browser.find_element(By.ID, "crumb-county").click()
    _wait(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#rank-units .bar")) == 2)


def test_grids_of_a_team_and_their_scope(server):  # noqa: F811
    everything = httpx.get(f"{server}/v1/indicators?level=grid", headers=HEADERS).json()["units"]
    teams = httpx.get(f"{server}/v1/indicators?level=team", headers=HEADERS).json()["units"]
    split = {
        team["unit_id"]: httpx.get(f"{server}/v1/indicators?level=grid&team={team['unit_id']}", headers=HEADERS).json()
        for team in teams
    }
    assert sorted(u["unit_id"] for body in split.values() for u in body["units"]) == sorted(
        u["unit_id"] for u in everything
    )
    assert httpx.get(f"{server}/v1/indicators?level=grid&team=nobody", headers=HEADERS).status_code == 404


def _pdf_of(browser, url: str, name: str):  # noqa: F811
    from pypdf import PdfReader
    from selenium.webdriver.common.by import By

    browser.get(url)
    _wait(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true", 60)
    _shot(browser, name.replace(".pdf", ".png"))
    pdf = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})["data"])
    (ARTIFACTS / name).write_bytes(pdf)
    print(f"pdf: {ARTIFACTS / name}")
    reader = PdfReader(io.BytesIO(pdf))
    # NFKC: the CJK font's glyphs map back to Kangxi radicals (⼯ for 工) and ligatures (ﬁ) in the PDF's text.
    return reader, unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in reader.pages))


def test_print_view_is_an_a4_list_with_boxes_to_tick(server, browser):  # noqa: F811
    team = _team_page(browser, server, "zh")
    listing = httpx.get(f"{server}/v1/teams/{team}/worklist?capacity=50", headers=HEADERS).json()
    grid = listing["entries"][0]["grid_id"]
    mine = [entry for entry in listing["entries"] if entry["grid_id"] == grid]
    others = [entry for entry in listing["entries"] if entry["grid_id"] != grid]
    reader, text = _pdf_of(browser, f"{server}/ui/print?team={team}&grid={grid}", "print-zh.pdf")
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    flat = re.sub(r"\s+", "", text)
    for entry in mine:
        assert entry["resident_id"] in flat
        for action in entry["actions"]:
            assert re.sub(r"\s+", "", unicodedata.normalize("NFKC", action["label"])) in flat
            assert action["due_date"] in flat
    assert not any(entry["resident_id"] in flat for entry in others)
    for word in ("同意就诊", "未联系上", "迁出", "工作清单", "结果(勾选一项)"):
        assert word in flat

    _, english = _pdf_of(browser, f"{server}/ui/print?team={team}&lang=en", "print-en.pdf")
    assert "Work list" in english and "agreed" in english
    assert listing["entries"][-1]["resident_id"] in english
    assert not CJK.findall(english)
