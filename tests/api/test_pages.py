"""The pages in a real headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium): sign in per role, run the README's demo check and see the conflict banner and the
path picture, open a finding, triage it, see the history, be refused where the role may not
go, and read the API's documentation offline with its Authorize button.

Screenshots of every page are kept in out/screens/ (ignored by git) to be looked at.
Outside CI a machine without Chromium skips these tests, saying so; under CI=true a missing
browser is a failure (.ci/run installs it)."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from tests.api.conftest import COMMISSION_STREET, make_settings
from tests.conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
SCREENS = REPO / "out" / "screens"

if not (CHROMIUM and DRIVER):
    if os.environ.get("CI") == "true":
        pytest.fail(
            "Chromium and chromedriver are required under CI (apt-get install chromium "
            "chromium-driver; .ci/run installs them)",
            pytrace=False,
        )
    pytest.skip(
        "NO BROWSER: the page tests need Debian's chromium and chromium-driver "
        "(apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service as DriverService  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support import expected_conditions as when  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


class Live:
    def __init__(self, url: str, tokens: dict[str, str]) -> None:
        self.url = url
        self.tokens = tokens


@contextmanager
def serving(with_demo: bool) -> Iterator[Live]:
    """The service on a real port with an admin token; the demo screened and a token for
    every role if asked."""
    folder = Path(tempfile.mkdtemp(prefix="integrity-pages-"))
    app = create_app(make_settings(folder / "var", f"sqlite:///{folder / 't.db'}"))
    service = app.state.service
    tokens = {"admin": service.tokens.issue("页面-admin", "admin")[0]}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    try:
        if with_demo:
            _screen_demo(url, tokens["admin"])
            for role in ("auditor", "commission", "reviewer"):
                streets = [COMMISSION_STREET] if role == "commission" else []
                tokens[role] = service.tokens.issue(f"页面-{role}", role, streets)[0]
        yield Live(url, tokens)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _screen_demo(url: str, admin: str) -> None:
    demo = httpx.post(f"{url}/demo", headers={"Authorization": f"Bearer {admin}"})
    sid = demo.json()["screening"]["id"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        body = httpx.get(f"{url}/health").json()
        if body["check_index"] and body["check_index"]["screening_id"] == sid:
            return
        time.sleep(0.3)
    raise AssertionError("the demo was not screened in 180 s")


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    with serving(with_demo=True) as found:
        yield found


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1600",
        "--lang=zh-CN",
    ):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}")
    driver = webdriver.Chrome(service=DriverService(str(DRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: WebDriver, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENS / f"{name}.png"))


def replaced(driver: WebDriver, element: WebElement, timeout: float = 30) -> None:
    """Wait until a new page has replaced the one `element` was on. While the page is being
    swapped, Chromium may answer a question about the old node with an inspector error
    ("Node with given id does not belong to the document") rather than "stale": that is
    the swap in progress, so it is asked again, until the node is reported stale."""
    WebDriverWait(driver, timeout, ignored_exceptions=(WebDriverException,)).until(
        when.staleness_of(element)
    )


def sign_in(driver: WebDriver, live: Live, role: str, then: str = "/ui") -> None:
    driver.get(f"{live.url}{then}")
    WebDriverWait(driver, 20).until(when.presence_of_element_located((By.NAME, "token")))
    assert "/ui/login" in driver.current_url
    driver.find_element(By.NAME, "token").send_keys(live.tokens[role])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: "/ui/login" not in d.current_url)


def test_a_reviewer_finds_the_demo_conflict(live: Live, browser: WebDriver) -> None:
    browser.get(f"{live.url}/ui/login")
    shot(browser, "01-login")
    sign_in(browser, live, "reviewer", "/ui/check")
    shot(browser, "02-check-form")
    form = browser.find_element(By.CSS_SELECTOR, "form.check")
    form.find_element(By.NAME, "supplier").send_keys("深圳市润泽睿智体育用品有限公司")
    form.find_element(By.NAME, "community").send_keys("象角塘社区")
    form.find_element(By.CSS_SELECTOR, "select[name=category] option[value='货物类']").click()
    form.find_element(By.NAME, "amount_wan").send_keys("20")
    browser.execute_script("document.querySelector('input[name=date]').value='2024-06-01'")
    form.find_element(By.NAME, "panel").send_keys("BT0234")
    browser.find_element(By.ID, "add-member").click()
    browser.find_elements(By.NAME, "panel")[1].send_keys("黎志斌")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    banner = WebDriverWait(browser, 30).until(when.presence_of_element_located((By.ID, "verdict")))
    assert "verdict-conflict" in banner.get_attribute("class")
    assert "存在利益冲突" in banner.text and "张波龙" in banner.text
    picture = browser.find_element(By.CSS_SELECTOR, "figure.picture svg")
    said = picture.text + (picture.get_attribute("innerHTML") or "")
    for part in ("张波龙", "堂弟", "张军海", "负责人", "family_links.csv"):
        assert part in said, part
    shot(browser, "03-check-conflict")
    # the result's URL is shareable: opened again, the same verdict
    shared = browser.current_url
    assert "panel=BT0234" in shared and "supplier=" in shared
    browser.get(shared)
    assert "存在利益冲突" in browser.find_element(By.ID, "verdict").text
    # a reviewer may not open the commission's pages
    browser.get(f"{live.url}/ui/findings")
    assert "无法打开此页面" in browser.page_source
    shot(browser, "04-reviewer-refused")


def test_an_unknown_supplier_offers_candidates(live: Live, browser: WebDriver) -> None:
    sign_in(browser, live, "reviewer", "/ui/check?supplier=深圳市润泽睿智体育用品公司&panel=BT0234")
    banner = browser.find_element(By.ID, "verdict")
    assert "verdict-unknown" in banner.get_attribute("class")
    pick = browser.find_element(By.PARTIAL_LINK_TEXT, "深圳市润泽睿智体育用品有限公司")
    shot(browser, "05-check-unknown")
    pick.click()
    replaced(browser, banner)  # the picked supplier's page
    banner = WebDriverWait(browser, 30).until(when.presence_of_element_located((By.ID, "verdict")))
    assert "verdict-conflict" in banner.get_attribute("class")


def test_a_commission_triages_a_finding(live: Live, browser: WebDriver) -> None:
    sign_in(browser, live, "commission", "/ui/findings")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.list tbody tr")
    assert rows and all(COMMISSION_STREET in r.text for r in rows)
    shot(browser, "06-findings")
    browser.find_element(By.CSS_SELECTOR, "select[name=rule] option[value=avoidance]").click()
    before = browser.find_element(By.CSS_SELECTOR, "table.list")
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    # the filtered page replaces this one: a link found before it loads would go stale
    replaced(browser, before)
    assert "rule=avoidance" in browser.current_url
    link = WebDriverWait(browser, 20).until(
        when.presence_of_element_located((By.CSS_SELECTOR, "table.list tbody a"))
    )
    link.click()
    WebDriverWait(browser, 20).until(when.presence_of_element_located((By.ID, "history")))
    assert browser.find_elements(By.CSS_SELECTOR, "figure.picture svg")
    assert "**********" in browser.page_source or "id:" not in browser.page_source
    shot(browser, "07-finding")
    form = browser.find_element(By.CSS_SELECTOR, "form.triage")
    form.find_element(By.CSS_SELECTOR, "select[name=status] option[value=confirmed]").click()
    form.find_element(By.NAME, "reason").send_keys("经核实，两人确为堂兄弟关系")
    history = browser.find_element(By.ID, "history")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # the triaged page replaces this one: read its history, not the old one's
    replaced(browser, history)
    WebDriverWait(browser, 20).until(
        when.text_to_be_present_in_element((By.ID, "history"), "经核实，两人确为堂兄弟关系")
    )
    assert browser.find_element(By.ID, "status").text == "已核实"
    shot(browser, "08-finding-triaged")
    # an auditor may not open the screenings' page as a commission
    browser.get(f"{live.url}/ui/screenings")
    assert "无法打开此页面" in browser.page_source


def test_an_auditor_sees_the_screenings_and_the_docs_work_offline(
    live: Live, browser: WebDriver
) -> None:
    sign_in(browser, live, "auditor", "/ui/screenings")
    runs = browser.find_element(By.ID, "runs")
    assert "完成" in runs.text and "发现清单" in runs.text
    provisions = browser.find_element(By.CSS_SELECTOR, "details.provisions")
    assert "政策条款" in provisions.text and "未检查" in provisions.text
    assert "funds.misuse" in provisions.text  # open: the provisions the run did not check
    shot(browser, "09-screenings")
    browser.get(f"{live.url}/docs")
    authorize = WebDriverWait(browser, 30).until(
        when.presence_of_element_located((By.CSS_SELECTOR, "button.authorize"))
    )
    assert authorize.is_displayed()
    assert "签约前核查" in browser.page_source and "上传数据集" in browser.page_source
    shot(browser, "10-docs")
    logs = browser.get_log("browser") if hasattr(browser, "get_log") else []
    assert not [e for e in logs if "net::" in str(e.get("message", ""))], logs


def test_from_a_fresh_service_to_the_demo_conflict_in_a_minute(browser: WebDriver) -> None:
    """The README's first steps, in the browser only: sign in with the first admin token,
    load the demo from the screenings' page, open the check's example: the conflict."""
    with serving(with_demo=False) as fresh:
        began = time.monotonic()
        sign_in(browser, fresh, "admin", "/ui/screenings")
        browser.find_element(By.ID, "load-demo").click()
        WebDriverWait(browser, 120, poll_frequency=1).until(
            lambda d: "run-done" in d.page_source and "发现清单" in d.page_source
        )
        browser.get(f"{fresh.url}/ui/check")
        browser.find_element(By.ID, "example").click()
        banner = WebDriverWait(browser, 30).until(
            when.presence_of_element_located((By.ID, "verdict"))
        )
        took = time.monotonic() - began
        shot(browser, "11-fresh-to-conflict")
        assert "verdict-conflict" in banner.get_attribute("class")
        assert took < 60, took
