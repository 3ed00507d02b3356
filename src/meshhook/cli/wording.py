"""The server's hints, reworded for the command line.

Problem details are written for HTTP clients ("pass force=true", "If-Match
names version 7"); a person at a terminal needs the option that does the same
(``--force``, ``--base 7``). The ``--json`` output keeps the server's words.
"""

from __future__ import annotations

import re

_HINTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bforce=true\b"), "--force"),
    (re.compile(r"\bIf-Match names version\b"), "--base names version"),
    (re.compile(r"\bGET /api/v1/templates\b"), "meshhook workflows templates"),
    (
        re.compile(r"\bGET /api/v1/projects/([^/\s]+)/workflows\?deleted=true\b"),
        r"meshhook workflows list --deleted -p \1",
    ),
]


def in_cli_words(text: str) -> str:
    """``text`` with each HTTP-only hint replaced by the CLI option that does it."""
    for pattern, replacement in _HINTS:
        text = pattern.sub(replacement, text)
    return text
