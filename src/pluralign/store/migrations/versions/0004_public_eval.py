"""public evaluation: two models, prompts with answers, clauses, impressions

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _fk(name: str, target: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey(target, ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "public_eval",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "assembly_id",
            sa.Integer(),
            sa.ForeignKey("assembly.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("model_a", sa.JSON(), nullable=False),
        sa.Column("model_b", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "public_eval_prompt",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("eval_id", "public_eval.id"),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("clause_key", sa.String(200), nullable=True),
        sa.Column("answer_a", sa.Text(), nullable=True),
        sa.Column("answer_b", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("eval_id", "key"),
    )
    op.create_table(
        "public_eval_clause",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("eval_id", "public_eval.id"),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.UniqueConstraint("eval_id", "key"),
    )
    op.create_table(
        "public_eval_impression",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("eval_id", "public_eval.id"),
        _fk("participant_id", "participant.id"),
        _fk("prompt_id", "public_eval_prompt.id"),
        _fk("clause_id", "public_eval_clause.id"),
        sa.Column("a_first", sa.Boolean(), nullable=False),
        sa.Column("choice", sa.String(8), nullable=True),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("participant_id", "prompt_id", "clause_id"),
    )
    op.create_index("ix_public_eval_impression_eval", "public_eval_impression", ["eval_id"])


def downgrade() -> None:
    op.drop_index("ix_public_eval_impression_eval", table_name="public_eval_impression")
    for name in (
        "public_eval_impression",
        "public_eval_clause",
        "public_eval_prompt",
        "public_eval",
    ):
        op.drop_table(name)
