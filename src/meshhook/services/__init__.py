"""Use cases: one function per user action, one transaction each.

Rule: this is the only layer that opens and commits transactions, checks
authorisation and writes audit entries. ``api`` and ``cli`` call these
functions and nothing below them, so REST, CLI and UI behave the same.
"""
