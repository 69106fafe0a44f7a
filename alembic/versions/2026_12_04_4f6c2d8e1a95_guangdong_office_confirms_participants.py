"""the Guangdong coordinating office confirms (or refuses) Guangdong participants

Revision ID: 4f6c2d8e1a95
Revises: b940fffc6f3b
Create Date: 2026-12-04 22:45:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '4f6c2d8e1a95'
down_revision: Union[str, Sequence[str], None] = 'b940fffc6f3b'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Guangdong applicants who declared before the office existed wait for it like new ones: no confirmation is
    # assumed. The role "guangdong_office" fits user.role (String(16)) as it is.
    with op.batch_alter_table('applicant_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('origin_confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('origin_refused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('origin_refusal_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_applicant_profile_origin_confirmed_by_id_user'), 'user',
                                    ['origin_confirmed_by_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('applicant_profile', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_applicant_profile_origin_confirmed_by_id_user'), type_='foreignkey')
        batch_op.drop_column('origin_refusal_reason')
        batch_op.drop_column('origin_refused_at')
        batch_op.drop_column('origin_confirmed_by_id')
        batch_op.drop_column('origin_confirmed_at')
