"""Every input limit of the domain, in one place, and the one rule for capping
lists of problems.

Each limit is checked *before* the work it protects: a bad input costs time
proportional to the limit, never to its own size. The API's request models take
their ``max_length``/``le`` from here and the domain checks behind them (e.g.
:func:`meshhook.domain.accounts.check_name`) use the same numbers, so the two
can never disagree. docs/security.md ("Limits and
abuse" → "Validation") and docs/definition-format.md list them for users; keep
those in step when a number changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from meshhook.domain.errors import Problem, Severity

# -- definitions (structural: a save over these is refused with 422) --------------
MAX_DEFINITION_BYTES = 5 * 1024 * 1024
MAX_NODES = 5_000
MAX_EDGES = 20_000
# JSON nesting inside a definition (the definition itself is level 1).
MAX_DEPTH = 64
# Node ids: letters, digits, _ and -.
MAX_NODE_ID_LENGTH = 64

# -- names and text of projects, workflows, versions, tokens, users ---------------
# Display names (a definition's ``name`` as well); the database columns are 200.
MAX_NAME_LENGTH = 200
# Keys of projects, workflows and templates: URL slugs.
MAX_KEY_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 10_000
# Version messages, publish notes, secret descriptions.
MAX_NOTE_LENGTH = 2_000
MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_VERSION_TAG_LENGTH = 64
MAX_ALIAS_LENGTH = 64
# The ``q`` of a workflow search.
MAX_SEARCH_LENGTH = 200
# Version numbers are 32-bit in the database; a larger one is a 422, not a 500.
MAX_VERSION = 2_147_483_647
MAX_TOKEN_DAYS = 3650
# Retention policy ages (days since a run was created).
MAX_RETENTION_DAYS = 36_500

# -- secrets ----------------------------------------------------------------------
MAX_SECRET_NAME_LENGTH = 128
MAX_SECRET_VALUE_BYTES = 64 * 1024
MAX_ALLOWED_HOSTS = 32

# -- pages of a listing -----------------------------------------------------------
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

# -- expressions ------------------------------------------------------------------
# JMESPath text, checked before it is compiled: jmespath's lexer is quadratic on
# some literals and its parser recursive, so only short text is ever handed over.
MAX_EXPRESSION_LENGTH = 4_096
# Brackets, parentheses and braces open at once inside one expression.
MAX_EXPRESSION_NESTING = 32

# -- arrays in node configs (the node-type schemas' maxItems) ----------------------
MAX_RETRY_STATUSES = 100

# -- problems ---------------------------------------------------------------------
# Problems in one answer (validate, a 422, a stored version); the rest are
# summarised by one final problem with code ``problems.truncated``.
MAX_PROBLEMS = 200
# Schema errors collected from one node config before the rest are summarised.
MAX_CONFIG_SCHEMA_ERRORS = 20
TRUNCATED_CODE = "problems.truncated"

# -- bundles ----------------------------------------------------------------------
MAX_BUNDLE_WORKFLOWS = 10_000
MAX_BUNDLE_VERSIONS = 10_000
MAX_BUNDLE_DEPENDENCIES = 10_000
# Problems a refused bundle lists, and how far the rest are counted.
MAX_REPORTED_BUNDLE_PROBLEMS = 100
MAX_COUNTED_BUNDLE_PROBLEMS = 10_000

# -- caches (bounded by bytes as well as entries) ----------------------------------
EXPRESSION_CACHE_BYTES = 8 * 1024 * 1024
CONFIG_CACHE_BYTES = 32 * 1024 * 1024
# A config larger than this is checked afresh each time instead of cached.
MAX_CACHED_CONFIG_BYTES = 64 * 1024
# Graph checks are memoised (64 graphs) only when they found at most this many.
MAX_MEMO_PROBLEMS = 1_000


def cap_problems(problems: Sequence[Problem], limit: int = MAX_PROBLEMS) -> list[Problem]:
    """At most ``limit`` problems, then one ``problems.truncated`` problem saying
    how many more there are.

    The summary is an error when any problem left out is one (so a capped list
    still blocks publishing exactly when the full list would), else a warning.
    A list capped already (by the same limit) is returned as it is.
    """
    already_capped = len(problems) == limit + 1 and problems[-1].code == TRUNCATED_CODE
    if len(problems) <= limit or already_capped:
        return list(problems)
    shown = list(problems[:limit])
    rest = problems[limit:]
    severity: Severity = "error" if any(p.severity == "error" for p in rest) else "warning"
    shown.append(
        Problem(
            "",
            TRUNCATED_CODE,
            f"{len(rest)} more problem(s) not listed ({len(problems)} in all); "
            "fix the ones above and check again",
            severity,
        )
    )
    return shown
