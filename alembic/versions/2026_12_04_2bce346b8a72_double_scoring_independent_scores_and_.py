"""double scoring: independent scores and moderation notes

Revision ID: 2bce346b8a72
Revises: 8b2f4e6a1c37
Create Date: 2026-12-04 22:05:08.793151

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '2bce346b8a72'
down_revision: Union[str, Sequence[str], None] = '8b2f4e6a1c37'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('score_moderation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=True),
    sa.Column('first_assessment_id', sa.Integer(), nullable=False),
    sa.Column('second_assessment_id', sa.Integer(), nullable=False),
    sa.Column('agreed_score', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['first_assessment_id'], ['assessment.id'], name=op.f('fk_score_moderation_first_assessment_id_assessment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moderator_id'], ['user.id'], name=op.f('fk_score_moderation_moderator_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_score_moderation_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['second_assessment_id'], ['assessment.id'], name=op.f('fk_score_moderation_second_assessment_id_assessment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_moderation'))
    )
    with op.batch_alter_table('score_moderation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_moderation_project_id'), ['project_id'], unique=False)

    with op.batch_alter_table('scheme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('double_scoring', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('moderation_threshold', sa.Integer(), nullable=False, server_default='15'))



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('scheme', schema=None) as batch_op:
        batch_op.drop_column('moderation_threshold')
        batch_op.drop_column('double_scoring')

    with op.batch_alter_table('score_moderation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_moderation_project_id'))

    op.drop_table('score_moderation')
