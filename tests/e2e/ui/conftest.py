"""Browser tests: a real ``meshhook serve`` on a temporary SQLite database,
driven by Playwright in headless Chromium (``/usr/bin/chromium``).

One server and one browser for this package (torn down before other tests
run); each test gets a fresh project and a fresh browser context (its own
cookies and local storage).
Without Chromium or Playwright these tests skip locally and fail in CI.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IN_CI
from tests.e2e.server import running_server

CHROMIUM = Path(os.environ.get("MESHHOOK_CHROMIUM", "/usr/bin/chromium"))
REPO = Path(__file__).resolve().parents[3]
SCREENSHOTS = Path(os.environ.get("MESHHOOK_SCREENSHOT_DIR", REPO / "build" / "screenshots"))


def _browser_problem() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


def require_browser() -> None:
    """Skip (locally) or fail (in CI) when the browser tests cannot run."""
    problem = _browser_problem()
    if problem is None:
        return
    if IN_CI:
        pytest.fail(problem + " (CI=true: browser tests must run)")
    pytest.skip(problem)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.ui)


@dataclass
class Server:
    url: str
    home: Path
    email: str
    password: str
    token: str

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return httpx.request(
            method, f"{self.url}/api/v1{path}", headers=headers, timeout=30, **kwargs
        )


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_browser()
    home = tmp_path_factory.mktemp("ui-home")
    # http_call steps in the run screens' tests call a server on this machine.
    with running_server(home, extra_env={"MESHHOOK_HTTP_ALLOW_PRIVATE": "true"}) as running:
        lines = (home / "initial-credentials").read_text().splitlines()
        credentials = dict(line.split(": ", 1) for line in lines if ": " in line)
        yield Server(
            url=running.url,
            home=home,
            email=credentials["email"],
            password=credentials["password"],
            token=credentials["token"],
        )


@pytest.fixture(scope="package")
def browser(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def project(server: Server) -> str:
    """A fresh project owned by the admin, so tests never see each other's workflows."""
    key = f"p-{uuid.uuid4().hex[:10]}"
    response = server.api("POST", "/projects", json={"key": key, "name": f"Project {key[2:6]}"})
    assert response.status_code == 201, response.text
    return key


def new_context(
    browser: Any, server: Server, *, signed_in: bool = True, color_scheme: str = "light"
) -> Any:
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1440, "height": 900}, color_scheme=color_scheme
    )
    context.set_default_timeout(10_000)
    if signed_in:
        response = context.request.post(
            "/api/v1/auth/login", data={"email": server.email, "password": server.password}
        )
        assert response.ok, response.text()
    return context


@pytest.fixture
def context(browser: Any, server: Server) -> Iterator[Any]:
    context = new_context(browser, server)
    yield context
    context.close()


@pytest.fixture
def page(context: Any) -> Any:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == [], f"uncaught errors in the page: {errors}"


def screenshot(page: Any, name: str) -> None:
    """Keep a picture of a main screen (docs/screenshots is refreshed from these)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
