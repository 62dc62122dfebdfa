"""kit tables v2: outbox.parked_at and the (aggregateid, position) index

The relay parks an outbox row the bus keeps refusing, and gives every key a turn in each batch
(pbkit.outbox); the step is the kit's, shared by the five services (pbkit.kit_migrations).

Revision ID: e0d1a88337c6
Revises: 55847d6bdd22
Create Date: 2026-12-02 00:53:39.444134
"""
from pbkit import kit_migrations


revision = 'e0d1a88337c6'
down_revision = '55847d6bdd22'
branch_labels = None
depends_on = None


def upgrade() -> None:
    kit_migrations.upgrade_v2()


def downgrade() -> None:
    kit_migrations.downgrade_v2()
