"""WeChat channel: each pushed message once (unique key claimed first), the customer-service
outbox, the rest of long answers for "详细", and the access token shared by every worker.

A branch of its own (label `wechat`) off 0001: `migrate()` upgrades every head.

Revision ID: wechat_0001
Revises: 0001
Create Date: 2026-11-29 09:02:48.618837
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'wechat_0001'
down_revision = '0001'
branch_labels = ('wechat',)
depends_on = None


def upgrade() -> None:
    op.create_table('wechat_access_tokens',
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('app_id', name=op.f('pk_wechat_access_tokens'))
    )
    op.create_table('wechat_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('openid', sa.String(length=128), nullable=False),
    sa.Column('parts', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('parts_sent', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_by', sa.String(length=64), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_deliveries')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_wechat_deliveries_dedupe_key'))
    )
    with op.batch_alter_table('wechat_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_wechat_deliveries_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('wechat_inbound',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('openid', sa.String(length=128), nullable=False),
    sa.Column('account', sa.String(length=128), nullable=False),
    sa.Column('msg_type', sa.String(length=32), nullable=False),
    sa.Column('sig_timestamp', sa.BigInteger(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reply_xml', sa.Text(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_inbound')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_wechat_inbound_dedupe_key')),
    sa.UniqueConstraint('sig_timestamp', 'nonce', name=op.f('uq_wechat_inbound_sig_timestamp_nonce'))
    )
    with op.batch_alter_table('wechat_inbound', schema=None) as batch_op:
        batch_op.create_index('ix_wechat_inbound_state_claimed', ['state', 'claimed_at'], unique=False)

    op.create_table('wechat_more',
    sa.Column('openid', sa.String(length=128), nullable=False),
    sa.Column('parts', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('openid', name=op.f('pk_wechat_more'))
    )


def downgrade() -> None:
    op.drop_table('wechat_more')
    with op.batch_alter_table('wechat_inbound', schema=None) as batch_op:
        batch_op.drop_index('ix_wechat_inbound_state_claimed')

    op.drop_table('wechat_inbound')
    with op.batch_alter_table('wechat_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_wechat_deliveries_due')

    op.drop_table('wechat_deliveries')
    op.drop_table('wechat_access_tokens')
