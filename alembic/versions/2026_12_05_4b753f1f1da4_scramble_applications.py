"""Scramble applications: a choice made after match day for an unfilled place is marked so.

Revision ID: 4b753f1f1da4
Revises: 934dee0b3bc7
Create Date: 2026-12-05 07:47:41.728209

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '4b753f1f1da4'
down_revision: Union[str, Sequence[str], None] = '934dee0b3bc7'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('choice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_scramble', sa.Boolean(), server_default=sa.text('false'), nullable=False))



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('choice', schema=None) as batch_op:
        batch_op.drop_column('in_scramble')

