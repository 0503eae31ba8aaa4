"""user_sessions.last_seen_at and expires_at (idle and absolute timeouts); login_failures

Revision ID: 0004_session_expiry
Revises: 0003_selected_account
Create Date: 2026-11-28 10:30:00

"""

from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004_session_expiry"
down_revision = "0003_selected_account"
branch_labels = None
depends_on = None

# The defaults of SESSION_IDLE_TIMEOUT and SESSION_ABSOLUTE_TIMEOUT when this was written.
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)


def upgrade():
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_failures_login"), ["login", "created_at"], unique=False
        )

    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
    # Sessions count as seen at the upgrade and get the idle timeout from then on; those that
    # would reach the absolute limit within it expire at once (their users log in again).
    now = datetime.now(UTC).replace(tzinfo=None)
    sessions = sa.table(
        "user_sessions",
        sa.column("created_at", sa.DateTime()),
        sa.column("last_seen_at", sa.DateTime()),
        sa.column("expires_at", sa.DateTime()),
    )
    op.execute(sessions.update().values(last_seen_at=now, expires_at=now))
    op.execute(
        sessions.update()
        .where(sessions.c.created_at > now + IDLE - ABSOLUTE)
        .values(expires_at=now + IDLE)
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.alter_column("last_seen_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("last_seen_at")

    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_login"))

    op.drop_table("login_failures")
