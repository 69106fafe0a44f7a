"""Browser tests: Debian's Chromium driven by Playwright, never a downloaded browser."""

import os
import shutil

import pytest

from tests.live import live_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM) or shutil.which("chromium"):
        return
    message = "Chromium is not installed (apt-get install chromium); browser tests need it"
    for item in items:
        if "browser" in str(item.fspath):
            if os.environ.get("CI") == "true":
                item.add_marker(pytest.mark.xfail(reason=message, run=False, strict=True))
            else:
                item.add_marker(pytest.mark.skip(reason=message))


@pytest.fixture(scope="session")
def server_url():
    with live_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=[(1280, 900), (375, 812)], ids=["desktop", "phone-375px"])
def page(request, browser):
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    yield page
    context.close()


def serious_accessibility_findings(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
