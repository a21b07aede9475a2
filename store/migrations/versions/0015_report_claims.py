"""report claims: each scheduled report goes out once per period

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 13:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_claim",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.JSON(), nullable=False),
        sa.Column(
            "archive_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["archive_id"],
            ["report_archive.id"],
            name=op.f("fk_report_claim_archive_id_report_archive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_claim")),
        sa.UniqueConstraint("kind", "subject", "period", name=op.f("uq_report_claim_kind")),
    )


def downgrade() -> None:
    op.drop_table("report_claim")
