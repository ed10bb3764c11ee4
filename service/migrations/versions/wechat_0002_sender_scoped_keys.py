"""WeChat retry keys scoped to our account and the sender: msg:<account>:<openid>:<MsgId> and
event:<account>:<openid>:<CreateTime>:<Event>. Before, a message key was msg:<MsgId> alone, so a second
sender whose message carried the same MsgId got the first sender's stored reply. Stored rows are kept and
rewritten to the new form from their own `account` and `openid` columns, so a retry that arrives across
the upgrade still finds its row; the key columns grow to 400 characters to hold both ids.

Revision ID: wechat_0002
Revises: wechat_0001
Create Date: 2026-12-05 22:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "wechat_0002"
down_revision = "wechat_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("wechat_inbound", "wechat_deliveries"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("dedupe_key", existing_type=sa.String(length=200), type_=sa.String(length=400),
                                  existing_nullable=False)
    # || concatenates on both SQLite and PostgreSQL; substr is 1-based on both.
    op.execute("UPDATE wechat_inbound SET dedupe_key = 'msg:' || account || ':' || openid || ':' || substr(dedupe_key, 5) "
               "WHERE dedupe_key LIKE 'msg:%'")
    op.execute("UPDATE wechat_inbound SET dedupe_key = 'event:' || account || ':' || substr(dedupe_key, 7) "
               "WHERE dedupe_key LIKE 'event:%'")


def downgrade() -> None:
    # back to the account- and sender-free keys (a collision of two senders' MsgIds keeps the first)
    op.execute("DELETE FROM wechat_inbound WHERE dedupe_key LIKE 'msg:%' AND id NOT IN (SELECT min(id) FROM "
               "wechat_inbound WHERE dedupe_key LIKE 'msg:%' GROUP BY substr(dedupe_key, length('msg:' || account || ':' || openid || ':') + 1))")
    op.execute("UPDATE wechat_inbound SET dedupe_key = 'msg:' || substr(dedupe_key, length('msg:' || account || ':' || openid || ':') + 1) "
               "WHERE dedupe_key LIKE 'msg:%'")
    op.execute("UPDATE wechat_inbound SET dedupe_key = 'event:' || substr(dedupe_key, length('event:' || account || ':') + 1) "
               "WHERE dedupe_key LIKE 'event:%'")
    for table in ("wechat_inbound", "wechat_deliveries"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("dedupe_key", existing_type=sa.String(length=400), type_=sa.String(length=200),
                                  existing_nullable=False)
