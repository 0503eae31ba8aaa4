"""account_links.selected_at: the account the cabinet's selector remembers

Revision ID: 0003_selected_account
Revises: 0002_billing
Create Date: 2026-11-27 17:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003_selected_account"
down_revision = "0002_billing"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("selected_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.drop_column("selected_at")
