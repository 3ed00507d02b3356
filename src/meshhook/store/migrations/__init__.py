"""The one Alembic chain for SQLite and PostgreSQL, shipped in the package."""
