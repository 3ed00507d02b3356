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
locks), ``tenancy.py`` (RLS scope) and ``dialect.py`` (JSON, row locks, search).

Statements: the queries every request runs (token, project, membership,
workflow, version and head reads, the save's writes) are built once at import
with bind parameters instead of per call. Building a SQLAlchemy statement and
computing its cache key cost ~0.2 ms each time, more than SQLite takes to answer
it; a statement built once keeps its cache key.
"""
