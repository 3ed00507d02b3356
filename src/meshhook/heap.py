"""Handing freed heap memory back to the operating system after large requests.

CPython frees a parsed megabyte-sized definition or bundle into glibc's heap,
which keeps most of those pages: the server's resident size then stays at its
high-water mark, and the next large request stacks on top of it. glibc's
``malloc_trim`` returns free pages anywhere in the heap to the system. Elsewhere
(macOS, musl) it is not there and :func:`trim` does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

# Requests whose body reached this size are followed by a trim.
TRIM_AFTER_BYTES = 1024 * 1024


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    function: Callable[[int], int] | None = getattr(libc, "malloc_trim", None)
    return function


_MALLOC_TRIM = _malloc_trim()


def trim() -> bool:
    """Return free heap pages to the system; whether anything was released."""
    if _MALLOC_TRIM is None:
        return False
    return bool(_MALLOC_TRIM(0))
