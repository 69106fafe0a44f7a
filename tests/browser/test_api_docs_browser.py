"""/docs in a real browser: Swagger UI starts under the page's Content-Security-Policy and lists the operations,
with every request it makes going to this server."""

import pytest

pytestmark = pytest.mark.browser


def test_the_docs_page_renders_the_operations_list_offline(browser, server_url):
    context = browser.new_context()
    page = context.new_page()
    elsewhere, refused = [], []
    page.on("request", lambda request: None if request.url.startswith(server_url) or request.url.startswith("data:")
            else elsewhere.append(request.url))
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(server_url + "/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() > 50
    assert page.get_by_text("/api/v1/projects/{project_id}").first.is_visible()
    page.locator(".opblock-summary").first.click()  # an operation opens, with its parameters and responses
    page.wait_for_selector(".opblock-body .responses-table", timeout=10_000)
    assert elsewhere == []
    assert refused == []
    context.close()
