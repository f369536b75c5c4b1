"""sales: the board's stage totals from one index on (pipeline, status, stage, value)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 08:00:00.000000

The kanban board counts and sums every open deal of a pipeline by stage. With this index
PostgreSQL answers that with an index-only scan instead of reading the whole deal table;
it leads with pipeline_id, so it replaces the plain index on that column.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sales_deal', schema=None) as batch_op:
        batch_op.create_index('ix_sales_deal_pipeline_board',
                              ['pipeline_id', 'status', 'stage_id', 'value'], unique=False)
        batch_op.drop_index('ix_sales_deal_pipeline_id')


def downgrade():
    with op.batch_alter_table('sales_deal', schema=None) as batch_op:
        batch_op.create_index('ix_sales_deal_pipeline_id', ['pipeline_id'], unique=False)
        batch_op.drop_index('ix_sales_deal_pipeline_board')
