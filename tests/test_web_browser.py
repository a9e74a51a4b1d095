"""The analyst's day in a real headless Chromium (Debian's package, driven by Playwright's
Python API) against `pantau serve` on 127.0.0.1: log in, search, two facets, open an
article, correct its location, find it under the new location; the dashboard chart.
Screenshots of each page go to test-artifacts/web/."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.web_fixtures import PASSWORDS, demo_data_copy, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "web"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("web-browser") / "data"
    demo_data_copy(data_dir)
    port = free_port()
    env = {
        **os.environ,
        "PANTAU_DATA_DIR": str(data_dir),
        # http on localhost: the browser would not send a Secure cookie back.
        "PANTAU_WEB__COOKIE_SECURE": "false",
    }
    env.pop("PANTAU_CONFIG", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "pantau", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/login", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    raise RuntimeError(f"pantau serve did not start:\n{output}") from None
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser_page() -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: make setup-test"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        yield page
        context.close()
        browser.close()
        # A CSP violation or a script error shows up here.
        assert errors == []


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_analyst_searches_filters_reads_and_corrects(server: str, browser_page: Page) -> None:
    page = browser_page
    page.goto(f"{server}/search")
    expect(page).to_have_url(f"{server}/login?next=%2Fsearch")
    shot(page, "01-login")
    page.fill("input[name=username]", "analis")
    page.fill("input[name=password]", PASSWORDS["analis"][1])
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server}/search")

    page.fill("#q", "anak")
    page.click("#search-submit")
    expect(page.locator("#total")).to_contain_text("berita ditemukan")
    total_before = int(page.locator("#total").inner_text().split()[0])
    assert page.locator(".hit mark").count() > 0
    shot(page, "02-search")

    # Two facets: each checkbox applies at once (vanilla JS submits the form).
    page.locator("fieldset[data-field=relevance] input[value=incident]").check()
    page.wait_for_load_state()
    expect(page.locator("fieldset[data-field=relevance] input[value=incident]")).to_be_checked()
    page.locator("fieldset[data-field=victim_group] input[value=anak]").check()
    page.wait_for_load_state()
    expect(page.locator("fieldset[data-field=victim_group] input[value=anak]")).to_be_checked()
    assert "relevance=incident" in page.url and "victim_group=anak" in page.url
    total_after = int(page.locator("#total").inner_text().split()[0])
    assert 0 < total_after <= total_before
    badges = page.locator(".hit .badge.rel-incident")
    assert badges.count() == page.locator(".hit").count()
    shot(page, "03-facets")

    # Open an article that is not in Kabupaten Sarolangun yet, and correct its location.
    titles = page.locator(".hit")
    target = None
    for n in range(titles.count()):
        if "Sarolangun" not in titles.nth(n).inner_text():
            target = titles.nth(n)
            break
    assert target is not None
    target.locator("h3 a").click()
    expect(page.locator("#article-title")).to_be_visible()
    article_url = page.url
    assert page.locator("#article-text .ent").count() > 0
    shot(page, "04-article")
    page.select_option("#correct-location", "15.03")
    page.click("#correct-submit")
    expect(page.locator("#field-location")).to_contain_text("Kabupaten Sarolangun")
    expect(page.locator("#corrections")).to_contain_text("analis")
    shot(page, "05-corrected")

    # The change reaches search: the article is found under its new kabupaten.
    article_id = article_url.rsplit("/", 1)[-1].split("?")[0]
    page.goto(f"{server}/search?region=15.03")
    expect(page.locator(f'.hit a[href="/articles/{article_id}"]')).to_have_count(1)
    shot(page, "06-search-after-correction")


def test_dashboard_renders_its_charts(server: str, browser_page: Page) -> None:
    page = browser_page
    page.goto(f"{server}/")
    chart = page.locator("svg#chart-weekly")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar").count() > 0
    box = chart.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 100
    expect(page.locator("svg#chart-regions rect.bar").first).to_be_visible()
    expect(page.locator("#latest a").first).to_be_visible()
    shot(page, "07-dashboard")


def test_pages_fit_a_phone(server: str, browser_page: Page) -> None:
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    for name, path in (("08-phone-dashboard", "/"), ("09-phone-search", "/search?q=tppo")):
        page.goto(f"{server}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"
        shot(page, name)
    page.goto(f"{server}/search?lang=en")
    expect(page.locator("h1, #search-submit").first).to_contain_text("Search")
