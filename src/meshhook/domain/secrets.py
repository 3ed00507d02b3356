"""A project secret's metadata, and where a secret may be sent (host allow-lists).

The value never leaves the vault service. An admin may restrict a secret to a
list of hosts: ``api.example.com`` (exactly that host) or ``*.example.com``
(any host below ``example.com``, not ``example.com`` itself), IPv4/IPv6
addresses exactly. ``None`` means unrestricted; an empty list means the secret
is never sent anywhere (a webhook HMAC secret, for instance).

:func:`host_allowed` is the one check, used twice: statically when a
definition is validated or published (on the URL as written), and by the run
engine's ``http_call`` executor on the final URL, right before sending.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from meshhook.domain.limits import MAX_ALLOWED_HOSTS

MAX_HOST_LENGTH = 253


class Keep:
    """ "Leave this field as it is" in an update, where ``None`` is a value
    (``allowed_hosts=None`` lifts a restriction)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = Keep()


@dataclass(frozen=True, slots=True)
class SecretRecord:
    project_id: UUID
    name: str
    description: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    last_used_at: datetime | None
    # Normalised host patterns; ``None`` = the secret may go to any host.
    allowed_hosts: tuple[str, ...] | None = None


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# scheme://authority, the authority ending at the first / ? or # (RFC 3986).
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)")
# Characters that make parsers disagree about where the host is: userinfo (@),
# backslashes (a path separator to browsers and some clients, not to others),
# percent-escapes, whitespace and controls. A URL holding one is never allowed.
_AMBIGUOUS = re.compile(r"[@\\%\s\x00-\x1f\x7f]")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
_PORT = re.compile(r"^:[0-9]{1,5}$")


def _ip(text: str) -> str | None:
    """The canonical form of an IP address, or ``None`` when ``text`` is not one."""
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return None


def _dns_name(text: str) -> str | None:
    """``text`` as a lowercase ASCII DNS name (IDNA for Unicode), or ``None``."""
    name = text[:-1] if text.endswith(".") else text
    try:
        name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        return None
    name = name.lower()
    labels = name.split(".")
    if not name or len(name) > MAX_HOST_LENGTH or not all(_LABEL.match(x) for x in labels):
        return None
    if _NUMERIC_LABEL.match(labels[-1]):
        # A name ending in a number is an IPv4 address to URL parsers (127.1,
        # 0x7f000001): only the canonical dotted form, checked by _ip, is accepted.
        return None
    return name


def normalize_host_pattern(pattern: str) -> str:
    """A host pattern in the form allow-lists store; ``ValueError`` says why not.

    ``API.Example.com.`` → ``api.example.com``; ``*.bücher.example`` →
    ``*.xn--bcher-kva.example``; ``[::1]`` → ``::1``.
    """
    text = pattern.strip()
    if not text or len(text) > MAX_HOST_LENGTH:
        raise ValueError(f"a host has 1 to {MAX_HOST_LENGTH} characters")
    if text.startswith("*."):
        suffix = _dns_name(text[2:])
        if suffix is None or "." not in suffix:
            raise ValueError(
                f"{pattern!r}: a wildcard needs a domain of two labels or more (*.example.com)"
            )
        return "*." + suffix
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    address = _ip(bare)
    if address is not None:
        return address
    name = _dns_name(text)
    if name is None:
        raise ValueError(
            f"{pattern!r} is not a host name (api.example.com), a wildcard (*.example.com) "
            "or an IP address; no scheme, port or path"
        )
    return name


def normalize_allowed_hosts(patterns: Sequence[str]) -> tuple[str, ...]:
    """Normalised, duplicates dropped, order kept; ``ValueError`` names the bad one."""
    if len(patterns) > MAX_ALLOWED_HOSTS:
        raise ValueError(f"at most {MAX_ALLOWED_HOSTS} hosts per secret")
    return tuple(dict.fromkeys(normalize_host_pattern(p) for p in patterns))


def url_host(url: str) -> str | None:
    """The host an ``http(s)`` URL sends to, normalised like allow-list patterns.

    ``None`` when the URL is not plainly ``http(s)://host[:port]...`` — userinfo,
    backslashes, percent-escapes or odd characters in the authority, a bad port,
    a number-like host that is not a dotted IPv4 address — because parsers then
    disagree on the host, and a secret must never go to the one it was not
    meant for.
    """
    match = _URL.match(url)
    if match is None or match["scheme"].lower() not in ("http", "https"):
        return None
    authority = match["authority"]
    if not authority or _AMBIGUOUS.search(authority):
        return None
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            return None
        host, rest = authority[1:end], authority[end + 1 :]
        address = _ip(host)
        if address is None or ":" not in address:
            return None
    else:
        host, colon, port = authority.partition(":")
        rest = colon + port
        address = _ip(host) if host[:1].isdigit() else None
    if rest and not (_PORT.match(rest) and 0 < int(rest[1:]) < 65536):
        return None
    return address if address is not None else _dns_name(host)


def host_matches(patterns: Sequence[str], host: str) -> bool:
    """Whether a normalised ``host`` is allowed by normalised ``patterns``."""
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def host_allowed(allowed_hosts: Sequence[str] | None, url: str) -> bool:
    """Whether a secret restricted to ``allowed_hosts`` may be sent to ``url``.

    The run engine's ``http_call`` executor calls this with the *final* URL
    (placeholders resolved) for every secret a request carries, before each
    attempt and for every redirect it would follow; ``False`` means the request
    is not sent. ``None`` allows every URL; a URL whose host cannot be read
    unambiguously (see :func:`url_host`) is never allowed.
    """
    if allowed_hosts is None:
        return True
    host = url_host(url)
    return host is not None and host_matches(allowed_hosts, host)
