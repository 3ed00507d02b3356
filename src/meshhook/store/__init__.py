"""Storage: SQLAlchemy tables, engines and sessions, tenancy (row-level security),
repositories and the Alembic chain.

Rule: repositories run SQL and ``flush``; they never commit (``services`` owns
transactions) and know nothing of HTTP. They return plain dataclasses from
``meshhook.domain``, never ORM rows, and raise domain errors, never SQLAlchemy
ones (a broken unique constraint is ``UniqueConflict``).

Tenant data is reached through classes bound to ``(session, project_id)``
(``repository.ProjectRepository``: ``WorkflowStore``, ``VersionStore``,
``AliasStore``, ``SecretStore``, ``AuditStore``, ``MembershipStore``,
``RunStore``), which services get as attributes of the ``ProjectScope`` they
open (``services/transactions.py``); every statement names the project. Module
functions remain only for what is not per project: users, tokens, login
attempts, the project table and the worker's claim across projects.

Every dialect difference lives in ``db.py`` (engines, SQLite pragmas, write
locks), ``tenancy.py`` (RLS scope), ``dialect.py`` (JSON, row locks, search)
and ``batched_writes.py`` (a save's rows in one PostgreSQL statement).

Statements: the queries every request runs (token, project, membership,
workflow, version and head reads, the save's writes) are built once, at import
or on first use per shape (``batched_writes``), with bind parameters instead of
per call. Building a SQLAlchemy statement and computing its cache key cost
~0.2 ms each time, more than SQLite takes to answer it; a statement built once
keeps its cache key. On PostgreSQL a statement is also a round trip, so a save
reads the workflow, its head and the project's secret context in one statement
(locking the workflow row) and writes its four rows in one more.
"""
