"""The public URL setting: derived from host and port, https makes cookies Secure."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from meshhook.settings import Settings


def test_the_public_url_defaults_to_the_listening_address() -> None:
    assert Settings(host="127.0.0.1", port=9000).base_url == "http://127.0.0.1:9000"
    assert Settings(host="::1", port=8080).base_url == "http://[::1]:8080"
    settings = Settings(host="127.0.0.1", public_url=None)
    settings.port = 9100  # what `serve --port` does
    assert settings.base_url == "http://127.0.0.1:9100"
    assert not settings.cookies_secure


def test_an_https_public_url_makes_cookies_secure() -> None:
    settings = Settings(public_url="https://meshhook.example.com/")
    assert settings.base_url == "https://meshhook.example.com"
    assert settings.cookies_secure
    assert Settings(secure_cookies=True).cookies_secure


@pytest.mark.parametrize("bad", ["meshhook.example.com", "ftp://x", "https://"])
def test_a_public_url_that_is_not_http_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        Settings(public_url=bad)
