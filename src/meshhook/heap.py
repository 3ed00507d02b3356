"""Keeping the server's heap small: fewer glibc arenas, and freed memory handed
back to the operating system after large requests.

CPython frees a parsed megabyte-sized definition or bundle into glibc's heap,
which keeps most of those pages: the server's resident size then stays at its
high-water mark, and the next large request stacks on top of it. glibc's
``malloc_trim`` returns free pages anywhere in the heap to the system.

glibc also gives threads that allocate their own heap ("arena"), up to eight per
core, and memory freed in one arena serves only that arena. Requests run on a
thread pool, so each worker thread kept its own high-water mark. Under the GIL
more arenas buy nothing, so :func:`limit_arenas` caps them at two, as
``MALLOC_ARENA_MAX=2`` would (measured on a server through 16 concurrent writers
and a 26 MB bundle import: peak 287 -> 274 MB, after the import 257 -> 233 MB).

Elsewhere (macOS, musl) these functions are not there and both do nothing.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
from collections.abc import Callable

# Requests whose body reached this size are followed by a trim.
TRIM_AFTER_BYTES = 1024 * 1024


# The arena cap, unless the operator set MALLOC_ARENA_MAX themselves.
MAX_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


def _glibc(name: str) -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    function: Callable[..., int] | None = getattr(libc, name, None)
    return function


_MALLOC_TRIM = _glibc("malloc_trim")
_MALLOPT = _glibc("mallopt")


def limit_arenas(count: int = MAX_ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``count``; whether the cap was set.

    Call it before the server starts threads: arenas already made stay. An
    explicit ``MALLOC_ARENA_MAX`` in the environment wins (glibc read it at start).
    """
    if _MALLOPT is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(_MALLOPT(_M_ARENA_MAX, count))


def trim() -> bool:
    """Return free heap pages to the system; whether anything was released."""
    if _MALLOC_TRIM is None:
        return False
    return bool(_MALLOC_TRIM(0))


# Generation-0 collections every 5,000 net allocations instead of 700: parsing a
# large definition allocates tens of thousands of containers, and at the default
# they are scanned and promoted several times per request. Larger thresholds
# (50,000) cut collector time further but let request-sized reference cycles
# live long enough to double the resident memory (measured: 126 -> 245 MB).
GC_THRESHOLDS = (5_000, 10, 10)


def tune_gc() -> None:
    """Freeze the objects built at start-up and collect less often.

    Modules, the app, the routes and the pydantic schemas live for the whole
    process; ``gc.freeze()`` moves them to a permanent generation that
    collections never scan again, so a full collection costs what the requests
    in flight allocated, not the whole heap. ``meshhook serve`` and ``meshhook
    worker`` call it once started; the benchmark calls it too.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
