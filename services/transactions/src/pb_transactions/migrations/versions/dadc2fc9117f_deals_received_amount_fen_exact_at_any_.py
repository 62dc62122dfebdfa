"""deals.received_amount_fen exact at any size: NUMERIC(38, 0), text on SQLite

The sum of a deal's payments outgrew a BIGINT of fen (issue 11). The column becomes what
pb_transactions.models.ExactFen stores: NUMERIC(38, 0) on PostgreSQL, the decimal digits as
text on SQLite (whose INTEGER stops at 2^63 - 1). Existing totals are carried over exactly.

On SQLite the column is swapped in place (ADD, copy, DROP COLUMN, RENAME COLUMN; SQLite 3.35+)
rather than by batch mode's table rebuild: dropping `deals` to rebuild it fails the foreign keys
of `deal_patents`, `deal_parties` and `payments` as soon as a deal exists. The added column
needs a default to be NOT NULL there; that default ('0') is never used, every row is copied.

Revision ID: dadc2fc9117f
Revises: ee62d102174d
Create Date: 2026-12-01 22:50:14.073330
"""
from alembic import op
import sqlalchemy as sa


revision = 'dadc2fc9117f'
down_revision = 'ee62d102174d'
branch_labels = None
depends_on = None

BIGINT_MAX = 2**63 - 1


def _swap_on_sqlite(new_type: str, default: str, cast_to: str) -> None:
    op.execute(f"ALTER TABLE deals ADD COLUMN received_swap {new_type} NOT NULL DEFAULT {default}")
    op.execute(f"UPDATE deals SET received_swap = CAST(received_amount_fen AS {cast_to})")
    op.execute("ALTER TABLE deals DROP COLUMN received_amount_fen")
    op.execute("ALTER TABLE deals RENAME COLUMN received_swap TO received_amount_fen")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _swap_on_sqlite("VARCHAR(40)", "'0'", "TEXT")
    else:
        op.alter_column('deals', 'received_amount_fen',
                        existing_type=sa.BigInteger(),
                        type_=sa.Numeric(precision=38, scale=0),
                        existing_nullable=False,
                        postgresql_using='received_amount_fen::numeric(38, 0)')


def downgrade() -> None:
    # A total beyond a BIGINT cannot go back: refuse rather than fail half-way or let SQLite clamp it.
    long_totals = op.get_bind().execute(sa.text(
        "SELECT received_amount_fen FROM deals WHERE length(CAST(received_amount_fen AS TEXT)) >= 19"
    )).scalars()
    too_big = [total for total in long_totals if int(total) > BIGINT_MAX]
    if too_big:
        raise RuntimeError(f"{len(too_big)} deals have received totals beyond a BIGINT of fen; not downgrading")
    if op.get_bind().dialect.name == "sqlite":
        _swap_on_sqlite("BIGINT", "0", "INTEGER")
    else:
        op.alter_column('deals', 'received_amount_fen',
                        existing_type=sa.Numeric(precision=38, scale=0),
                        type_=sa.BigInteger(),
                        existing_nullable=False,
                        postgresql_using='received_amount_fen::bigint')
