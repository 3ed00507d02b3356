"""Storage: SQLAlchemy tables, engines and sessions, tenancy (row-level security),
repositories and the Alembic chain.

Rule: repositories run SQL and ``flush``; they never commit (``services`` owns
transactions) and know nothing of HTTP. They return plain dataclasses from
``meshhook.domain``, never ORM rows. Every dialect difference lives in
``db.py`` (engines, SQLite pragmas, write locks) and ``tenancy.py`` (RLS scope).
"""
