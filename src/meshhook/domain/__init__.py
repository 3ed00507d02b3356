"""Pure logic with no I/O: accounts and roles, the error hierarchy, every input
limit (``limits.py``), page cursors, the definition model, node types,
validation, canonical JSON, diff, merge, the bundle format, and ``runs``: the
run engine's pure core.

Rule: nothing here imports from ``store``, ``services``, ``api``, ``cli`` or does
I/O (no database, no network, no files beyond package resources). Everything is
fast to unit-test.
"""
