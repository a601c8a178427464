"""workbench: interview turns with their proposed clauses, saved constitutions, background jobs

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _assembly() -> sa.Column:
    return sa.Column(
        "assembly_id",
        sa.Integer(),
        sa.ForeignKey("assembly.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "workbench_turn",
        sa.Column("id", sa.Integer(), primary_key=True),
        _assembly(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("model", sa.String(300), nullable=False),
        sa.Column("draft", sa.Text(), nullable=False),
        sa.Column("rejected_draft", sa.Text(), nullable=False),
        sa.Column("gate", sa.String(40), nullable=True),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("assembly_id", "number"),
    )
    op.create_table(
        "workbench_constitution",
        sa.Column("id", sa.Integer(), primary_key=True),
        _assembly(),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("clauses", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "workbench_job",
        sa.Column("id", sa.Integer(), primary_key=True),
        _assembly(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("slot", sa.String(16), nullable=True, unique=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("workbench_job")
    op.drop_table("workbench_constitution")
    op.drop_table("workbench_turn")
