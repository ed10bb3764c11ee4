"""The conversation's case file (extraction.casefile) beside its Facts, so the service's own record
derives Facts over the whole conversation as the bot does. Existing rows keep their Facts; their case
file starts from those Facts (CaseFile.seeded) on the next turn.

A branch of its own (label `casefile`) off 0001: `migrate()` upgrades every head.

Revision ID: case_0001
Revises: 0001
Create Date: 2026-12-05 21:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "case_0001"
down_revision = "0001"
branch_labels = ("casefile",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_file", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("case_file")
