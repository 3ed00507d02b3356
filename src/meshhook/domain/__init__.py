"""Pure logic with no I/O: the definition model, node types, validation,
canonical JSON, diff, merge and the bundle format.

Rule: nothing here imports from ``store``, ``services``, ``api``, ``cli`` or does
I/O (no database, no network, no files beyond package resources). Everything is
fast to unit-test.
"""
