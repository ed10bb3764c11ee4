"""Covering indexes for the staff queue pages (service.web): the working order (overdue, open,
oldest first), the status counts and the daily stats read only these columns, so at 10,000
tickets they scan a small index instead of the wide rows (JSON facts and paperwork).

Revision ID: web_0001
Revises: 0001
Create Date: 2026-11-29 09:50:00
"""
from __future__ import annotations

from alembic import op

revision = "web_0001"
down_revision = "0001"
branch_labels = ("web",)
depends_on = None

COLUMNS = ["status", "created_at", "sla_due_at", "first_action_at"]


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        # Every county (admin, agents): status filter + the order's key.
        batch_op.create_index("ix_tickets_queue", COLUMNS, unique=False)
        # One county (its officers): the same, behind the county.
        batch_op.create_index("ix_tickets_county_queue", ["county", *COLUMNS], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_county_queue")
        batch_op.drop_index("ix_tickets_queue")
