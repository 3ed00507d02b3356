"""``workflow_heads.text_number``: the version whose full text the head row
holds, at most ``MAX_HEAD_LAG`` versions behind the head (NULL: the head's
own), so a save rewrites the head's whole text only every few versions
(``store/version_content.py``). Existing rows hold their head's text: NULL.
On downgrade every head row gets its own head's text back.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from meshhook.store import version_content

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_versions = sa.table(
    "workflow_versions",
    sa.column("workflow_id", sa.Uuid()),
    sa.column("number", sa.Integer()),
    sa.column("content", sa.LargeBinary()),
    sa.column("base_number", sa.Integer()),
)
_heads = sa.table(
    "workflow_heads",
    sa.column("workflow_id", sa.Uuid()),
    sa.column("number", sa.Integer()),
    sa.column("keyframe", sa.Integer()),
    sa.column("definition", sa.Text()),
    sa.column("text_number", sa.Integer()),
)


def _force_rls(table: str, *, force: bool) -> None:
    """Off while converting, so a migrating owner (not only a superuser) sees every
    tenant's rows."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {table} {'' if force else 'NO '}FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    op.add_column("workflow_heads", sa.Column("text_number", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in ("workflow_versions", "workflow_heads"):
        _force_rls(table, force=False)
    _settle_heads(op.get_bind())
    for table in ("workflow_versions", "workflow_heads"):
        _force_rls(table, force=True)
    # A plain column: SQLite (3.35+) drops it in place, no table copy needed.
    op.drop_column("workflow_heads", "text_number")


def _settle_heads(connection: sa.Connection) -> None:
    """Give every head row whose text lags its head's own text (the head's
    chain replayed from its keyframe)."""
    lagging = connection.execute(
        sa.select(_heads.c.workflow_id, _heads.c.number, _heads.c.keyframe).where(
            _heads.c.text_number.is_not(None), _heads.c.text_number != _heads.c.number
        )
    ).all()
    for head in lagging:
        rows = connection.execute(
            sa.select(_versions.c.number, _versions.c.base_number, _versions.c.content).where(
                _versions.c.workflow_id == head.workflow_id,
                _versions.c.number.between(head.keyframe, head.number),
            )
        ).all()
        chain = {row.number: (row.base_number, bytes(row.content)) for row in rows}
        text = version_content.replay(chain, head.number)
        connection.execute(
            sa.update(_heads)
            .where(_heads.c.workflow_id == head.workflow_id)
            .values(definition=text.decode(), text_number=None)
        )
