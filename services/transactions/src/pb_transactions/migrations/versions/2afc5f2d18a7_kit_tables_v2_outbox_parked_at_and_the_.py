"""kit tables v2: outbox.parked_at and the (aggregateid, position) index

The relay parks an outbox row the bus keeps refusing, and gives every key a turn in each batch
(pbkit.outbox); the step is the kit's, shared by the five services (pbkit.kit_migrations).

Revision ID: 2afc5f2d18a7
Revises: 00ea6bc806a1
Create Date: 2026-12-02 00:53:35.916458
"""
from pbkit import kit_migrations


revision = '2afc5f2d18a7'
down_revision = '00ea6bc806a1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    kit_migrations.upgrade_v2()


def downgrade() -> None:
    kit_migrations.downgrade_v2()
