"""Sets of node indexes as incremental validation uses them: pure, no I/O."""

from __future__ import annotations

from collections.abc import Container, Sequence


class AllExcept:
    """Every index but some: ``i in AllExcept({3})`` for all ``i != 3``."""

    __slots__ = ("excluded",)

    def __init__(self, excluded: set[int]) -> None:
        self.excluded = excluded

    def __contains__(self, item: object) -> bool:
        return item not in self.excluded


def not_in(skip: Container[int], count: int) -> Sequence[int]:
    """The indexes below ``count`` that ``skip`` does not hold, ascending.

    For ``AllExcept`` (a patch's untouched nodes) that is its few excluded
    indexes, found without asking about every index: a one-node edit of a
    1,000-node definition visits one node, not a thousand.
    """
    if isinstance(skip, AllExcept):
        return sorted(i for i in skip.excluded if 0 <= i < count)
    if isinstance(skip, tuple) and not skip:
        return range(count)
    return [i for i in range(count) if i not in skip]
