"""certificates

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:07:34.307239
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_key",
        sa.Column("kid", sa.String(length=100), nullable=False),
        sa.Column("algorithm", sa.String(length=20), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_key")),
    )
    op.create_table(
        "credential",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("agency_id", sa.String(length=64), nullable=True),
        sa.Column("tier", sa.String(length=20), nullable=True),
        sa.Column("category_id", sa.String(length=40), nullable=True),
        sa.Column(
            "completion_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kid", sa.String(length=100), nullable=False),
        sa.Column("jwt", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_credential_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_credential_category_id_category")
        ),
        sa.ForeignKeyConstraint(
            ["completion_id"],
            ["completion.id"],
            name=op.f("fk_credential_completion_id_completion"),
        ),
        sa.ForeignKeyConstraint(
            ["kid"], ["signing_key.kid"], name=op.f("fk_credential_kid_signing_key")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_credential_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["mapping_rule.id"], name=op.f("fk_credential_rule_id_mapping_rule")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential")),
    )
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credential_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_credential_person_id"), ["person_id"], unique=False)

    op.create_table(
        "credential_push",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("credential_id", sa.String(length=100), nullable=False),
        sa.Column(
            "source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("remote_id", sa.String(length=300), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credential.id"],
            name=op.f("fk_credential_push_credential_id_credential"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_credential_push_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_push")),
        sa.UniqueConstraint(
            "credential_id", "source_id", "action", name=op.f("uq_credential_push_credential_id")
        ),
    )
    with op.batch_alter_table("credential_push", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credential_push_credential_id"), ["credential_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("credential_push", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_push_credential_id"))

    op.drop_table("credential_push")
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_person_id"))
        batch_op.drop_index(batch_op.f("ix_credential_agency_id"))

    op.drop_table("credential")
    op.drop_table("signing_key")
