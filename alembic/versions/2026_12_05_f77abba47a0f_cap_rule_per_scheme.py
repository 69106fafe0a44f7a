"""Cap rule per scheme: how a stable round keeps a binding regional cap (proportional or flexible).

Revision ID: f77abba47a0f
Revises: 4b753f1f1da4
Create Date: 2026-12-05 08:31:44.227796

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = 'f77abba47a0f'
down_revision: Union[str, Sequence[str], None] = '4b753f1f1da4'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('scheme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cap_rule', sa.String(length=12), server_default='proportional', nullable=False))



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('scheme', schema=None) as batch_op:
        batch_op.drop_column('cap_rule')

