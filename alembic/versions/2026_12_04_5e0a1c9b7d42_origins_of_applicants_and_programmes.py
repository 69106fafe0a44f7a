"""where applicants come from, and which origins each scheme admits

Revision ID: 5e0a1c9b7d42
Revises: 6d697be22d63
Create Date: 2026-12-04 18:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '5e0a1c9b7d42'
down_revision: Union[str, Sequence[str], None] = '6d697be22d63'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('applicant_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=12), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('guangdong_city', sa.String(length=40), nullable=False, server_default=''))
        batch_op.alter_column('residency_declared_at', new_column_name='origin_declared_at')
    # A Hong Kong residency declaration is the declaration of origin "hong_kong".
    op.execute("UPDATE applicant_profile SET origin = 'hong_kong' WHERE hk_resident_declared")
    with op.batch_alter_table('applicant_profile', schema=None) as batch_op:
        batch_op.drop_column('hk_resident_declared')
    with op.batch_alter_table('scheme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admitted_origins', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[\"hong_kong\"]'")))
        batch_op.add_column(sa.Column('reserved_seats', sa.String(length=8), nullable=False, server_default='keep'))
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_seats', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('origin_seats')
    with op.batch_alter_table('scheme', schema=None) as batch_op:
        batch_op.drop_column('reserved_seats')
        batch_op.drop_column('admitted_origins')
    with op.batch_alter_table('applicant_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hk_resident_declared', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE applicant_profile SET hk_resident_declared = (origin = 'hong_kong')")
    with op.batch_alter_table('applicant_profile', schema=None) as batch_op:
        batch_op.drop_column('guangdong_city')
        batch_op.drop_column('origin')
        batch_op.alter_column('origin_declared_at', new_column_name='residency_declared_at')
