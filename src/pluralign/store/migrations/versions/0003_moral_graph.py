"""moral graph: contexts, cases, values cards, edges, impressions

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _ts() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def _assembly() -> sa.Column:
    return sa.Column(
        "assembly_id",
        sa.Integer(),
        sa.ForeignKey("assembly.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "moral_context",
        sa.Column("id", sa.Integer(), primary_key=True),
        _assembly(),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _ts(),
        sa.UniqueConstraint("assembly_id", "key"),
    )
    op.create_table(
        "moral_case",
        sa.Column("id", sa.Integer(), primary_key=True),
        _assembly(),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        _ts(),
        sa.UniqueConstraint("assembly_id", "key"),
    )
    op.create_table(
        "moral_case_context",
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("moral_case.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "context_id",
            sa.Integer(),
            sa.ForeignKey("moral_context.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "values_card",
        sa.Column("id", sa.Integer(), primary_key=True),
        _assembly(),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("policies", sa.JSON(), nullable=False),
        sa.Column(
            "context_id",
            sa.Integer(),
            sa.ForeignKey("moral_context.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("moral_case.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "author_id",
            sa.Integer(),
            sa.ForeignKey("participant.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "canonical_id",
            sa.Integer(),
            sa.ForeignKey("values_card.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("dialogue", sa.JSON(), nullable=False),
        _ts(),
    )
    op.create_index("ix_values_card_assembly", "values_card", ["assembly_id"])
    for name in ("moral_edge", "moral_impression"):
        extra = (
            [
                sa.Column("relationship", sa.String(16), nullable=False),
                sa.Column("story", sa.Text(), nullable=False),
            ]
            if name == "moral_edge"
            else []
        )
        constraints = (
            [sa.UniqueConstraint("participant_id", "from_id", "to_id", "context_id")]
            if name == "moral_edge"
            else []
        )
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), primary_key=True),
            _assembly(),
            sa.Column(
                "participant_id",
                sa.Integer(),
                sa.ForeignKey("participant.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column(
                "from_id",
                sa.Integer(),
                sa.ForeignKey("values_card.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column(
                "to_id",
                sa.Integer(),
                sa.ForeignKey("values_card.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column(
                "context_id",
                sa.Integer(),
                sa.ForeignKey("moral_context.id", ondelete="CASCADE"),
                nullable=False,
            ),
            *extra,
            _ts(),
            *constraints,
        )
        op.create_index(f"ix_{name}_assembly", name, ["assembly_id"])


def downgrade() -> None:
    for name in ("moral_impression", "moral_edge"):
        op.drop_index(f"ix_{name}_assembly", table_name=name)
        op.drop_table(name)
    op.drop_index("ix_values_card_assembly", table_name="values_card")
    for name in ("values_card", "moral_case_context", "moral_case", "moral_context"):
        op.drop_table(name)
