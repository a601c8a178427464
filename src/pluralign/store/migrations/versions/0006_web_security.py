"""web security and moderation: organiser sessions, failed sign-ins, the moderation log

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("web_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "web_login_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_login_failure_username", "web_login_failure", ["username"])
    op.create_table(
        "web_moderation_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "assembly_id",
            sa.Integer(),
            sa.ForeignKey("assembly.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "statement_id",
            sa.Integer(),
            sa.ForeignKey("statement.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("statement_number", sa.Integer(), nullable=False),
        sa.Column("statement_text", sa.Text(), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("web_user.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("previous", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_moderation_log_assembly", "web_moderation_log", ["assembly_id"])


def downgrade() -> None:
    op.drop_index("ix_web_moderation_log_assembly", table_name="web_moderation_log")
    op.drop_table("web_moderation_log")
    op.drop_index("ix_web_login_failure_username", table_name="web_login_failure")
    op.drop_table("web_login_failure")
    op.drop_table("web_session")
