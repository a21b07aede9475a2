"""mapping workflow

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:58:16.232980
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("course_key", sa.String(length=500), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("provider", sa.String(length=200), nullable=True),
        sa.Column("activity_type", sa.String(length=300), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_course_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course")),
        sa.UniqueConstraint("source_id", "course_key", name=op.f("uq_course_source_id")),
    )
    op.create_table(
        "course_title",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "course_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
            name=op.f("fk_course_title_course_id_course"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_title")),
        sa.UniqueConstraint("course_id", "title", name=op.f("uq_course_title_course_id")),
    )
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.create_index("ix_completion_course", ["source_id", "course_key"], unique=False)

    with op.batch_alter_table("mapping_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("effective_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mapping_rule", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("effective_until")
        batch_op.drop_column("effective_from")

    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.drop_index("ix_completion_course")

    op.drop_table("course_title")
    op.drop_table("course")
