"""The run engine's moving parts: executors with side effects (HTTP), and
later the worker loop, timers and triggers.

Executors carry out one step attempt and return an outcome; they never touch
the database. Orchestration (what runs next, retries, replay) is the pure
``meshhook.domain.runs``.
"""
