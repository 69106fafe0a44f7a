"""guangdong host organisations

Revision ID: ca6ddd0f8032
Revises: ce09df3476b6
Create Date: 2026-12-05 03:58:55.172359

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = 'ca6ddd0f8032'
down_revision: Union[str, Sequence[str], None] = 'ce09df3476b6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Every organisation registered so far is a Hong Kong NGO.
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='ngo'))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('kind')
