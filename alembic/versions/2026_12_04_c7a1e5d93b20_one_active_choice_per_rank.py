"""one active choice per rank

Revision ID: c7a1e5d93b20
Revises: 92888ff9cad0
Create Date: 2026-12-04 06:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'c7a1e5d93b20'
down_revision: Union[str, Sequence[str], None] = '92888ff9cad0'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ACTIVE = "status <> 'withdrawn' AND rank > 0"


def upgrade() -> None:
    """An applicant's active choices in a scheme hold distinct ranks, whatever the race."""
    with op.batch_alter_table('choice', schema=None) as batch_op:
        batch_op.create_index('uq_choice_active_rank', ['applicant_id', 'scheme_id', 'rank'], unique=True,
                              sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))


def downgrade() -> None:
    with op.batch_alter_table('choice', schema=None) as batch_op:
        batch_op.drop_index('uq_choice_active_rank', sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
