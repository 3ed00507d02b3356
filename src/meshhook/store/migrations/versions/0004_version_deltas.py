"""History that grows with the change: versions stored as line deltas with
periodic keyframes, and the head's full text in ``workflow_heads``.

Existing full copies are converted workflow by workflow (and back on downgrade).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from meshhook.store import deltas, version_content
from meshhook.store.migrations import postgres as pg

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_versions = sa.table(
    "workflow_versions",
    sa.column("workflow_id", sa.Uuid()),
    sa.column("number", sa.Integer()),
    sa.column("project_id", sa.Uuid()),
    sa.column("definition", sa.Text()),
    sa.column("content", sa.LargeBinary()),
    sa.column("base_number", sa.Integer()),
    sa.column("keyframe", sa.Integer()),
)
_heads = sa.table(
    "workflow_heads",
    sa.column("workflow_id", sa.Uuid()),
    sa.column("project_id", sa.Uuid()),
    sa.column("number", sa.Integer()),
    sa.column("keyframe", sa.Integer()),
    sa.column("chain_length", sa.Integer()),
    sa.column("chain_bytes", sa.Integer()),
    sa.column("definition", sa.Text()),
)


def _on_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _force_rls(table: str, *, force: bool) -> None:
    """Off while converting, so a migrating owner (not only a superuser) sees every
    tenant's rows."""
    if _on_postgres():
        op.execute(f"ALTER TABLE {table} {'' if force else 'NO '}FORCE ROW LEVEL SECURITY")


def _workflow_ids(connection: sa.Connection) -> list[Any]:
    return list(connection.execute(sa.select(_versions.c.workflow_id).distinct()).scalars().all())


def upgrade() -> None:
    op.create_table(
        "workflow_heads",
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("keyframe", sa.Integer(), nullable=False),
        sa.Column("chain_length", sa.Integer(), nullable=False),
        sa.Column("chain_bytes", sa.Integer(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name="fk_workflow_heads_workflow_id_workflows",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_workflow_heads_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workflow_id", name="pk_workflow_heads"),
    )
    with op.batch_alter_table("workflow_versions") as batch:
        batch.add_column(sa.Column("content", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("base_number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("keyframe", sa.Integer(), nullable=True))
    _force_rls("workflow_versions", force=False)
    _pack_existing(op.get_bind())
    _force_rls("workflow_versions", force=True)
    with op.batch_alter_table("workflow_versions") as batch:
        batch.drop_column("definition")
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
        batch.alter_column("keyframe", existing_type=sa.Integer(), nullable=False)
    if _on_postgres():
        # Keyframes are zlib-packed and deltas small: TOAST compression would only cost.
        op.execute("ALTER TABLE workflow_versions ALTER COLUMN content SET STORAGE EXTERNAL")
        op.execute("ALTER TABLE workflow_heads ALTER COLUMN definition SET COMPRESSION lz4")
    pg.grant("workflow_heads")
    pg.enable_tenant_rls("workflow_heads")


def _pack_existing(connection: sa.Connection) -> None:
    for workflow_id in _workflow_ids(connection):
        rows = connection.execute(
            sa.select(_versions.c.number, _versions.c.project_id, _versions.c.definition)
            .where(_versions.c.workflow_id == workflow_id)
            .order_by(_versions.c.number)
        ).all()
        head: version_content.Head | None = None
        for row in rows:
            packed, new_head = version_content.pack(head, row.number, row.definition.encode())
            head = new_head or head
            connection.execute(
                sa.update(_versions)
                .where(_versions.c.workflow_id == workflow_id, _versions.c.number == row.number)
                .values(
                    content=packed.content,
                    base_number=packed.base_number,
                    keyframe=packed.keyframe,
                )
            )
        assert head is not None
        connection.execute(
            sa.insert(_heads).values(
                workflow_id=workflow_id,
                project_id=rows[0].project_id,
                number=head.number,
                keyframe=head.keyframe,
                chain_length=head.chain_length,
                chain_bytes=head.chain_bytes,
                definition=head.text.decode(),
            )
        )


def downgrade() -> None:
    pg.disable_tenant_rls("workflow_heads")
    pg.revoke_all("workflow_heads")
    with op.batch_alter_table("workflow_versions") as batch:
        batch.add_column(sa.Column("definition", sa.Text(), nullable=True))
    _force_rls("workflow_versions", force=False)
    _unpack_existing(op.get_bind())
    _force_rls("workflow_versions", force=True)
    with op.batch_alter_table("workflow_versions") as batch:
        batch.drop_column("keyframe")
        batch.drop_column("base_number")
        batch.drop_column("content")
        batch.alter_column("definition", existing_type=sa.Text(), nullable=False)
    if _on_postgres():
        op.execute("ALTER TABLE workflow_versions ALTER COLUMN definition SET COMPRESSION lz4")
    op.drop_table("workflow_heads")


def _unpack_existing(connection: sa.Connection) -> None:
    for workflow_id in _workflow_ids(connection):
        rows = connection.execute(
            sa.select(_versions.c.number, _versions.c.base_number, _versions.c.content)
            .where(_versions.c.workflow_id == workflow_id)
            .order_by(_versions.c.number)
        ).all()
        chain = {row.number: (row.base_number, bytes(row.content)) for row in rows}
        previous: tuple[int, bytes] | None = None
        for row in rows:
            if row.base_number is None:
                text = deltas.unpack_keyframe(bytes(row.content))
            elif previous is not None and previous[0] == row.base_number:
                text = deltas.apply_delta(previous[1], bytes(row.content))
            else:
                text = version_content.replay(chain, row.number)
            previous = (row.number, text)
            connection.execute(
                sa.update(_versions)
                .where(_versions.c.workflow_id == workflow_id, _versions.c.number == row.number)
                .values(definition=text.decode())
            )
