"""kit tables v2: outbox.parked_at and the (aggregateid, position) index

The relay parks an outbox row the bus keeps refusing, and gives every key a turn in each batch
(pbkit.outbox); the step is the kit's, shared by the five services (pbkit.kit_migrations).

Revision ID: f023a7af7b55
Revises: 5bb50651910f
Create Date: 2026-12-02 00:53:41.932098
"""
from pbkit import kit_migrations


revision = 'f023a7af7b55'
down_revision = '5bb50651910f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    kit_migrations.upgrade_v2()


def downgrade() -> None:
    kit_migrations.downgrade_v2()
