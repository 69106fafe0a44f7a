"""programme kinds: thematic host institution, what a host provides

Revision ID: b940fffc6f3b
Revises: 2bce346b8a72
Create Date: 2026-12-04 22:39:22.322338

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = 'b940fffc6f3b'
down_revision: Union[str, Sequence[str], None] = '2bce346b8a72'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('host_provides_en', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('host_provides_zh', sa.Text(), nullable=False, server_default=''))

    with op.batch_alter_table('scheme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=24), nullable=False, server_default='funding_scheme'))
        batch_op.add_column(sa.Column('host_institution_en', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('host_institution_zh', sa.String(length=200), nullable=False, server_default=''))



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('scheme', schema=None) as batch_op:
        batch_op.drop_column('host_institution_zh')
        batch_op.drop_column('host_institution_en')
        batch_op.drop_column('kind')

    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('host_provides_zh')
        batch_op.drop_column('host_provides_en')

