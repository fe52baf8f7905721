"""The API page offline (issue 13): Swagger UI at ``/docs`` and ReDoc at ``/redoc`` render the
endpoint list in a real browser with every request to another host refused."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def offline_page(browser_page, web_server):
    """The page with the network cut off beyond the test server; what it tried is recorded."""
    own = urlsplit(web_server.url).netloc
    refused: list[str] = []

    def only_own_host(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).netloc == own:
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    browser_page.route("**/*", only_own_host)
    browser_page.refused = refused
    return browser_page


def test_swagger_ui_lists_the_endpoints_offline(offline_page, screenshot):
    page = offline_page
    page.goto("/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 10
    expect(page.locator(".opblock-summary-description",
                        has_text="Crear una postulación")).to_be_visible()
    expect(page.locator(".opblock-tag", has_text="postulaciones")).to_be_visible()
    screenshot(page, "api-docs-swagger", full_page=False)
    assert page.refused == []


def test_redoc_lists_the_endpoints_offline(offline_page, screenshot):
    page = offline_page
    page.goto("/redoc")
    expect(page.get_by_role("menuitem", name="postulaciones")).to_be_visible()
    expect(page.locator("h2", has_text="Crear una postulación")).to_be_visible()
    assert page.locator("h2", has_text="Matriz de evidencias").count() == 1
    screenshot(page, "api-docs-redoc", full_page=False)
    assert page.refused == []
