"""The kit tables' migration steps, written once and called from every service's Alembic history.

A step is frozen once released: a later change to the kit tables is a new
step (`upgrade_v2`, ...) that each service's history calls in a new revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pbkit.db


def upgrade_v1() -> None:
    """Outbox, per-aggregate event sequences, processed events, idempotency keys, audit log."""
    op.create_table('audit_log',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('action', sa.String(length=128), nullable=False),
    sa.Column('target_type', sa.String(length=64), nullable=True),
    sa.Column('target_id', sa.String(length=128), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_target', ['target_type', 'target_id'], unique=False)

    op.create_table('event_sequences',
    sa.Column('aggregatetype', sa.String(length=64), nullable=False),
    sa.Column('aggregateid', sa.String(length=128), nullable=False),
    sa.Column('last_sequence', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('aggregatetype', 'aggregateid')
    )
    op.create_table('idempotency_keys',
    sa.Column('client_id', sa.String(length=128), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('operation', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.JSON(), nullable=False),
    sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('client_id', 'key')
    )
    op.create_table('outbox',
    sa.Column('position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('aggregatetype', sa.String(length=64), nullable=False),
    sa.Column('aggregateid', sa.String(length=128), nullable=False),
    sa.Column('type', sa.String(length=128), nullable=False),
    sa.Column('topic', sa.String(length=128), nullable=False),
    sa.Column('sequence', sa.BigInteger(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('created_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('position'),
    sa.UniqueConstraint('id')
    )
    op.create_table('processed_events',
    sa.Column('consumer', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('processed_at', pbkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id')
    )


def downgrade_v1() -> None:
    op.drop_table('processed_events')
    op.drop_table('outbox')
    op.drop_table('idempotency_keys')
    op.drop_table('event_sequences')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_target')

    op.drop_table('audit_log')


def upgrade_v2() -> None:
    """The relay parks poison rows (`outbox.parked_at`, and an index of the parked rows) and walks the keys along (aggregateid, position)."""
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parked_at', pbkit.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_outbox_aggregateid_position', ['aggregateid', 'position'], unique=False)
        batch_op.create_index('ix_outbox_parked', ['aggregateid'], unique=False,
                              sqlite_where=sa.text('parked_at IS NOT NULL'), postgresql_where=sa.text('parked_at IS NOT NULL'))


def downgrade_v2() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_parked')
        batch_op.drop_index('ix_outbox_aggregateid_position')
        batch_op.drop_column('parked_at')
