"""Host allow-lists of secrets: the check the run engine makes on the final URL."""

from __future__ import annotations

import pytest

from meshhook.domain.limits import MAX_ALLOWED_HOSTS
from meshhook.domain.secrets import (
    host_allowed,
    normalize_allowed_hosts,
    normalize_host_pattern,
    url_host,
)

API = ("api.example.com",)
WILD = ("*.example.com",)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example.com/v1/orders",
        "https://api.example.com",
        "https://api.example.com?x=1",
        "https://api.example.com#top",
        "https://api.example.com:8443/x",
        "http://api.example.com/x",
        "HTTPS://API.EXAMPLE.COM/x",
        "https://Api.Example.Com./x",
        "https://api.example.com/path/with@at/and\\backslash",
        "https://api.example.com/?next=https://evil.com/",
    ],
)
def test_urls_to_the_allowed_host_are_allowed(url: str) -> None:
    assert host_allowed(API, url)


@pytest.mark.parametrize(
    "url",
    [
        # userinfo: the host is evil.com to every parser that honours it
        "https://api.example.com@evil.com/",
        "https://api.example.com:443@evil.com/",
        "https://user:pw@api.example.com/",
        # backslash: a path separator to browsers, part of the host to others
        "https://evil.com\\@api.example.com/",
        "https://api.example.com\\.evil.com/",
        # lookalikes and suffix tricks
        "https://api.example.com.evil.com/",
        "https://evilapi.example.com/",
        "https://api-example.com/",
        "https://api.example.co/",
        # percent-escapes and odd characters in the host
        "https://api%2Eexample.com/",
        "https://api.example.com%00.evil.com/",
        "https://api.example.com /",
        "https://api.example.com\t/",
        # bad ports, schemes, shapes
        "https://api.example.com:/",
        "https://api.example.com:99999/",
        "https://api.example.com:8o/",
        "https://api.example.com:²/",
        "ftp://api.example.com/",
        "//api.example.com/",
        "api.example.com/x",
        "https:///api.example.com",
        "https://api..example.com/",
        "",
    ],
)
def test_urls_that_go_elsewhere_or_are_ambiguous_are_refused(url: str) -> None:
    assert not host_allowed(API, url)


def test_no_list_allows_every_url_and_an_empty_list_none() -> None:
    assert host_allowed(None, "https://anything.example.org/")
    assert host_allowed(None, "not even a url")
    assert not host_allowed((), "https://api.example.com/")


def test_wildcards_match_subdomains_at_any_depth_but_not_the_domain_itself() -> None:
    assert host_allowed(WILD, "https://a.example.com/")
    assert host_allowed(WILD, "https://a.b.example.com/")
    assert not host_allowed(WILD, "https://example.com/")
    assert not host_allowed(WILD, "https://badexample.com/")
    assert not host_allowed(WILD, "https://a.example.com.evil.com/")


def test_unicode_hosts_compare_in_their_idna_form() -> None:
    patterns = normalize_allowed_hosts(["bücher.example"])
    assert patterns == ("xn--bcher-kva.example",)
    assert host_allowed(patterns, "https://BÜCHER.example/")
    assert host_allowed(patterns, "https://xn--bcher-kva.example/")
    assert not host_allowed(patterns, "https://bucher.example/")
    # full-width letters and dots fold to ASCII the way browsers fold them
    fullwidth = "\uff41\uff50\uff49\u3002example\u3002com"  # "api。example。com", full width
    assert host_allowed(API, f"https://{fullwidth}/")


def test_ip_literals_match_only_in_their_canonical_form() -> None:
    v4 = normalize_allowed_hosts(["10.0.0.5"])
    assert host_allowed(v4, "https://10.0.0.5:8443/x")
    for other in (
        "https://10.0.5/",
        "https://0x0a000005/",
        "https://167772165/",
        "https://010.0.0.5/",
        "https://10.0.0.5.evil.com/",
    ):
        assert not host_allowed(v4, other), other
    v6 = normalize_allowed_hosts(["[2001:DB8::1]"])
    assert v6 == ("2001:db8::1",)
    assert host_allowed(v6, "https://[2001:db8:0:0::1]:8443/")
    assert not host_allowed(v6, "https://[2001:db8::1%25eth0]/")
    assert not host_allowed(v6, "https://[2001:db8::1/")
    # number-like names are IPv4 addresses to URL parsers: never a name match
    assert url_host("https://127.1/") is None
    assert url_host("https://0x7f.0.0.1/") is None


@pytest.mark.parametrize(
    ("pattern", "normalised"),
    [
        ("API.Example.COM", "api.example.com"),
        ("api.example.com.", "api.example.com"),
        (" api.example.com ", "api.example.com"),
        ("*.Example.com", "*.example.com"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("localhost", "localhost"),
    ],
)
def test_host_patterns_are_normalised(pattern: str, normalised: str) -> None:
    assert normalize_host_pattern(pattern) == normalised


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "https://api.example.com",
        "api.example.com/v1",
        "api.example.com:443",
        "user@api.example.com",
        "*.com",
        "*",
        "a.*.example.com",
        "api_example.com",
        "-api.example.com",
        "127.1",
        "x" * 254,
    ],
)
def test_bad_host_patterns_are_refused_with_a_reason(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        normalize_host_pattern(pattern)


def test_allow_lists_are_deduplicated_and_bounded() -> None:
    assert normalize_allowed_hosts(["a.example.com", "A.example.com."]) == ("a.example.com",)
    with pytest.raises(ValueError, match=str(MAX_ALLOWED_HOSTS)):
        normalize_allowed_hosts([f"h{i}.example.com" for i in range(MAX_ALLOWED_HOSTS + 1)])
