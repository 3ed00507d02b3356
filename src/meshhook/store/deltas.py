"""How version content is packed: keyframes and line deltas. Pure, no I/O.

Canonical JSON puts every scalar on a line of its own, so a one-node edit of a
large definition changes a handful of lines. A stored version is either a
*keyframe* (the whole canonical text, zlib-compressed when that is smaller) or
a *delta* against another version's text: the byte ranges of the old text to
replace and what to put there, computed on line boundaries.

The first byte of a packed value says which it is:

- ``F`` + the text, ``Z`` + zlib(text): a keyframe;
- ``D`` + ops, ``E`` + zlib(ops): a delta, ops being ``(start, end, length)``
  as three little-endian unsigned 32-bit integers followed by ``length`` bytes,
  sorted by ``start`` and not overlapping.

``apply_delta(old, diff_texts(old, new)) == new`` for any two byte strings; the
diff only decides how small the delta is (property-tested).
"""

from __future__ import annotations

import struct
import zlib
from bisect import bisect_left
from collections import Counter
from itertools import accumulate

KEYFRAME_RAW = b"F"
KEYFRAME_ZLIB = b"Z"
DELTA_RAW = b"D"
DELTA_ZLIB = b"E"

_OP = struct.Struct("<III")
# zlib level 1 packs canonical JSON about 6x at a few hundred MB/s: cheap enough
# on the save path, and keyframes are rare.
_ZLIB_LEVEL = 1
_COMPRESS_DELTAS_FROM = 512
# Below this many lines on both sides a changed region is replaced whole.
_SMALL_REGION = 8
_MAX_DEPTH = 24
# Regions up to this size are diffed line by line rather than split further.
_SMALL_BYTES = 2048
_ANCHOR_TRIES = 16
_MIN_ANCHOR = 8

Op = tuple[int, int, bytes]


def pack_keyframe(text: bytes) -> bytes:
    packed = zlib.compress(text, _ZLIB_LEVEL)
    if len(packed) < len(text):
        return KEYFRAME_ZLIB + packed
    return KEYFRAME_RAW + text


def is_keyframe(content: bytes) -> bool:
    return content[:1] in (KEYFRAME_RAW, KEYFRAME_ZLIB)


def unpack_keyframe(content: bytes) -> bytes:
    kind, body = content[:1], content[1:]
    if kind == KEYFRAME_RAW:
        return body
    if kind == KEYFRAME_ZLIB:
        return zlib.decompress(body)
    raise ValueError(f"not a keyframe (kind {kind!r})")


def pack_delta(ops: list[Op]) -> bytes:
    body = b"".join(_OP.pack(start, end, len(data)) + data for start, end, data in ops)
    if len(body) >= _COMPRESS_DELTAS_FROM:
        packed = zlib.compress(body, _ZLIB_LEVEL)
        if len(packed) < len(body):
            return DELTA_ZLIB + packed
    return DELTA_RAW + body


def unpack_delta(content: bytes) -> list[Op]:
    kind, body = content[:1], content[1:]
    if kind == DELTA_ZLIB:
        body = zlib.decompress(body)
    elif kind != DELTA_RAW:
        raise ValueError(f"not a delta (kind {kind!r})")
    ops: list[Op] = []
    at = 0
    while at < len(body):
        start, end, length = _OP.unpack_from(body, at)
        at += _OP.size
        ops.append((start, end, body[at : at + length]))
        at += length
    return ops


def apply_ops(old: bytes, ops: list[Op]) -> bytes:
    parts: list[bytes] = []
    position = 0
    for start, end, data in ops:
        parts.append(old[position:start])
        parts.append(data)
        position = end
    parts.append(old[position:])
    return b"".join(parts)


def apply_delta(old: bytes, content: bytes) -> bytes:
    """The text a packed delta makes of ``old``."""
    return apply_ops(old, unpack_delta(content))


def unpack(base: bytes | None, content: bytes) -> bytes:
    """The text of a packed value: a keyframe alone, a delta on ``base``."""
    if is_keyframe(content):
        return unpack_keyframe(content)
    if base is None:
        raise ValueError("a delta needs the text it applies to")
    return apply_delta(base, content)


# --- diff -------------------------------------------------------------------


def diff_texts(old: bytes, new: bytes) -> list[Op]:
    """Ops turning ``old`` into ``new``, on line boundaries.

    Unchanged stretches are skipped with block compares at C speed: trim the
    common head and tail, then split what is left at a line that occurs once
    on each side and trim again in each half. Only small leftovers are diffed
    line by line (patience diff). Edits far apart (an edge added at the end of
    ``edges``, a node at the end of ``nodes``) so stay separate small ops.
    """
    ops: list[Op] = []
    if old != new:
        _diff_bytes(old, new, 0, len(old), 0, len(new), ops, 0)
    return ops


def _diff_bytes(
    old: bytes,
    new: bytes,
    a0: int,
    a1: int,
    b0: int,
    b1: int,
    ops: list[Op],
    depth: int,
) -> None:
    # Both ranges start and end on line boundaries (or at the ends of the texts).
    prefix = _common_prefix(old, new, a0, b0, min(a1 - a0, b1 - b0))
    if prefix:  # back to the start of the line the texts part in
        prefix = old.rfind(b"\n", a0, a0 + prefix) + 1 - a0 if prefix else 0
        prefix = max(prefix, 0)
    a0, b0 = a0 + prefix, b0 + prefix
    suffix = _common_suffix(old, new, a1, b1, min(a1 - a0, b1 - b0))
    if suffix and not (_starts_line(old, a1 - suffix) and _starts_line(new, b1 - suffix)):
        cut = old.find(b"\n", a1 - suffix, a1)
        suffix = a1 - (cut + 1) if cut != -1 else 0
    a1, b1 = a1 - suffix, b1 - suffix
    if a0 == a1 and b0 == b1:
        return
    if a0 == a1 or b0 == b1:
        ops.append((a0, a1, new[b0:b1]))
        return
    if depth < _MAX_DEPTH and a1 - a0 > _SMALL_BYTES and b1 - b0 > _SMALL_BYTES:
        split = _unique_line(old, new, a0, a1, b0, b1)
        if split is not None:
            a_at, b_at = split
            _diff_bytes(old, new, a0, a_at, b0, b_at, ops, depth + 1)
            _diff_bytes(old, new, a_at, a1, b_at, b1, ops, depth + 1)
            return
    _diff_lines(old, new, a0, a1, b0, b1, ops)


def _unique_line(
    old: bytes, new: bytes, a0: int, a1: int, b0: int, b1: int
) -> tuple[int, int] | None:
    """Start offsets of a line near the middle of ``old[a0:a1]`` found exactly
    once there and exactly once in ``new[b0:b1]``."""
    at = old.find(b"\n", (a0 + a1) // 2, a1) + 1
    for _ in range(_ANCHOR_TRIES):
        if at <= 0 or at >= a1:
            return None
        end = old.find(b"\n", at, a1)
        if end == -1:
            return None
        line = old[at - 1 : end + 1]  # with the newlines on both sides
        if len(line) >= _MIN_ANCHOR and old.count(line, a0 - 1 if a0 else 0, a1) == 1:
            found = new.find(line, b0 - 1 if b0 else 0, b1)
            if found != -1 and new.find(line, found + 1, b1) == -1:
                return at, found + 1
        at = end + 1
    return None


def _common_prefix(a: bytes, b: bytes, a0: int, b0: int, limit: int) -> int:
    """Length of the common start of ``a[a0:]`` and ``b[b0:]``, at most ``limit``.

    A binary search of memcmp calls on zero-copy views: about 20 compares of
    up to a few hundred KB, instead of a Python loop over bytes.
    """
    view = memoryview(b)
    low, high = 0, limit  # a[a0:a0+low] == b[b0:b0+low]; nothing longer than high
    while low < high:
        middle = (low + high + 1) // 2
        if a.startswith(view[b0 + low : b0 + middle], a0 + low):
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: bytes, b: bytes, a1: int, b1: int, limit: int) -> int:
    """Length of the common end of ``a[:a1]`` and ``b[:b1]``, at most ``limit``."""
    view = memoryview(b)
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a.endswith(view[b1 - middle : b1 - low], 0, a1 - low):
            low = middle
        else:
            high = middle - 1
    return low


def _starts_line(text: bytes, position: int) -> bool:
    return position == 0 or text[position - 1 : position] == b"\n"


def _lines(text: bytes, start: int, end: int) -> tuple[list[bytes], list[int]]:
    """The lines of ``text[start:end]`` (line ends kept) and their start offsets.

    ``splitlines`` also splits at ``\r``; any split is exact, since the lines
    put back together are the text.
    """
    lines = text[start:end].splitlines(keepends=True)
    return lines, list(accumulate(map(len, lines), initial=start))


def _diff_lines(
    old: bytes,
    new: bytes,
    old_start: int,
    old_end: int,
    new_start: int,
    new_end: int,
    ops: list[Op],
) -> None:
    a, a_at = _lines(old, old_start, old_end)
    b, b_at = _lines(new, new_start, new_end)
    line_ops: list[tuple[int, int, int, int]] = []
    _patience(a, b, 0, len(a), 0, len(b), line_ops, 0)
    for a_lo, a_hi, b_lo, b_hi in line_ops:
        ops.append((a_at[a_lo], a_at[a_hi], new[b_at[b_lo] : b_at[b_hi]]))


def _patience(
    a: list[bytes],
    b: list[bytes],
    a_lo: int,
    a_hi: int,
    b_lo: int,
    b_hi: int,
    out: list[tuple[int, int, int, int]],
    depth: int,
) -> None:
    while a_lo < a_hi and b_lo < b_hi and a[a_lo] == b[b_lo]:
        a_lo += 1
        b_lo += 1
    while a_hi > a_lo and b_hi > b_lo and a[a_hi - 1] == b[b_hi - 1]:
        a_hi -= 1
        b_hi -= 1
    if a_lo == a_hi and b_lo == b_hi:
        return
    small = a_hi - a_lo <= _SMALL_REGION and b_hi - b_lo <= _SMALL_REGION
    anchors = [] if small or depth >= _MAX_DEPTH else _anchors(a, b, a_lo, a_hi, b_lo, b_hi)
    if not anchors:
        out.append((a_lo, a_hi, b_lo, b_hi))
        return
    for a_at, b_at in anchors:
        if a_at != a_lo or b_at != b_lo:
            _patience(a, b, a_lo, a_at, b_lo, b_at, out, depth + 1)
        a_lo, b_lo = a_at + 1, b_at + 1
    _patience(a, b, a_lo, a_hi, b_lo, b_hi, out, depth + 1)


def _anchors(
    a: list[bytes], b: list[bytes], a_lo: int, a_hi: int, b_lo: int, b_hi: int
) -> list[tuple[int, int]]:
    """Lines occurring once on each side, as the longest run in the same order."""
    a_counts = Counter(a[a_lo:a_hi])
    b_counts = Counter(b[b_lo:b_hi])
    where = {
        line: index
        for index, line in enumerate(a[a_lo:a_hi], a_lo)
        if a_counts[line] == 1 and b_counts.get(line) == 1
    }
    if not where:
        return []
    pairs = [(where[line], index) for index, line in enumerate(b[b_lo:b_hi], b_lo) if line in where]
    return _longest_increasing(pairs)


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (in ``b`` order) increasing in ``a``."""
    tails: list[int] = []  # smallest a-index ending a run of each length
    tail_at: list[int] = []  # index into pairs of that tail
    previous = [-1] * len(pairs)
    for index, (a_index, _b_index) in enumerate(pairs):
        length = bisect_left(tails, a_index)
        if length == len(tails):
            tails.append(a_index)
            tail_at.append(index)
        else:
            tails[length] = a_index
            tail_at[length] = index
        previous[index] = tail_at[length - 1] if length else -1
    run: list[tuple[int, int]] = []
    at = tail_at[-1]
    while at != -1:
        run.append(pairs[at])
        at = previous[at]
    run.reverse()
    return run
