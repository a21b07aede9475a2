"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 14:44:21.123291
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("pledged_on", sa.Date(), nullable=True),
        sa.Column("deadline_months", sa.Integer(), nullable=False),
        sa.Column("report_to", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "category",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("population", sa.String(length=20), nullable=False),
        sa.Column("validity_months", sa.Integer(), nullable=True),
        sa.Column("built_in", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    op.create_table(
        "source",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=True),
        sa.Column("cursor_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source")),
        sa.UniqueConstraint("name", name=op.f("uq_source_name")),
    )
    op.create_table(
        "attestation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("attested_on", sa.Date(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_attestation_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestation")),
        sa.UniqueConstraint(
            "agency_id", "kind", "attested_on", name=op.f("uq_attestation_agency_id")
        ),
    )
    with op.batch_alter_table("attestation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attestation_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "coverage_snapshot",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sworn_total", sa.Integer(), nullable=False),
        sa.Column("sworn_crisis", sa.Integer(), nullable=False),
        sa.Column("sworn_trained", sa.Integer(), nullable=False),
        sa.Column("nonsworn_selected_total", sa.Integer(), nullable=False),
        sa.Column("nonsworn_trained", sa.Integer(), nullable=False),
        sa.Column("partnership", sa.Boolean(), nullable=False),
        sa.Column("policy", sa.Boolean(), nullable=False),
        sa.Column("crisis_20", sa.Boolean(), nullable=True),
        sa.Column("all_trained", sa.Boolean(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_coverage_snapshot_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_snapshot")),
        sa.UniqueConstraint("agency_id", "as_of", name=op.f("uq_coverage_snapshot_agency_id")),
    )
    op.create_table(
        "mapping_rule",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("match", sa.String(length=20), nullable=False),
        sa.Column("pattern", sa.String(length=500), nullable=False),
        sa.Column("source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("category_id", sa.String(length=40), nullable=True),
        sa.Column("min_hours", sa.Float(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_mapping_rule_category_id_category")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_mapping_rule_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_rule")),
    )
    op.create_table(
        "person_identifier",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=False),
        sa.Column("source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_identifier_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_person_identifier_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_identifier")),
        sa.UniqueConstraint("kind", "value", name=op.f("uq_person_identifier_kind")),
    )
    with op.batch_alter_table("person_identifier", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_identifier_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "sync_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("voided", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_sync_run_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_run")),
    )
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_run_source_id"), ["source_id"], unique=False)

    op.create_table(
        "quarantined_record",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("location", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_run.id"], name=op.f("fk_quarantined_record_run_id_sync_run")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_quarantined_record_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_record")),
        sa.UniqueConstraint(
            "source_id", "location", "reason", name=op.f("uq_quarantined_record_source_id")
        ),
    )
    with op.batch_alter_table("quarantined_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quarantined_record_source_id"), ["source_id"], unique=False
        )

    op.create_table(
        "raw_record",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "first_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "last_run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["sync_run.id"], name=op.f("fk_raw_record_first_run_id_sync_run")
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["sync_run.id"], name=op.f("fk_raw_record_last_run_id_sync_run")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_raw_record_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_record")),
        sa.UniqueConstraint("source_id", "external_id", name=op.f("uq_raw_record_source_id")),
    )
    op.create_table(
        "completion",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "raw_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("agency_hint", sa.String(length=64), nullable=True),
        sa.Column("employee_id", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("mbox_sha1sum", sa.String(length=40), nullable=True),
        sa.Column("account", sa.String(length=400), nullable=True),
        sa.Column("course_key", sa.String(length=500), nullable=False),
        sa.Column("course_title", sa.String(length=500), nullable=False),
        sa.Column("activity_type", sa.String(length=300), nullable=True),
        sa.Column("provider", sa.String(length=200), nullable=True),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_completion_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["raw_record_id"],
            ["raw_record.id"],
            name=op.f("fk_completion_raw_record_id_raw_record"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_completion_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completion")),
        sa.UniqueConstraint("raw_record_id", name=op.f("uq_completion_raw_record_id")),
    )
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.create_index("ix_completion_person_id", ["person_id"], unique=False)
        batch_op.create_index("ix_completion_unlinked", ["person_id", "employee_id"], unique=False)

    op.create_table(
        "employment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("employee_id", sa.String(length=100), nullable=False),
        sa.Column("sworn", sa.Boolean(), nullable=False),
        sa.Column("position", sa.String(length=200), nullable=False),
        sa.Column("position_key", sa.String(length=200), nullable=False),
        sa.Column("selected", sa.Boolean(), nullable=False),
        sa.Column("hired_on", sa.Date(), nullable=False),
        sa.Column("separated_on", sa.Date(), nullable=True),
        sa.Column(
            "raw_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_employment_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_employment_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["raw_record_id"],
            ["raw_record.id"],
            name=op.f("fk_employment_raw_record_id_raw_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employment")),
        sa.UniqueConstraint("agency_id", "employee_id", name=op.f("uq_employment_agency_id")),
    )
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.create_index("ix_employment_employee_id", ["employee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_employment_person_id"), ["person_id"], unique=False)

    op.create_table(
        "voiding",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("target_external_id", sa.String(length=300), nullable=False),
        sa.Column(
            "raw_record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["raw_record_id"], ["raw_record.id"], name=op.f("fk_voiding_raw_record_id_raw_record")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_voiding_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voiding")),
        sa.UniqueConstraint("source_id", "target_external_id", name=op.f("uq_voiding_source_id")),
    )
    op.create_table(
        "classification",
        sa.Column(
            "completion_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("category_id", sa.String(length=40), nullable=True),
        sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("rule_version", sa.Integer(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("classified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_classification_category_id_category")
        ),
        sa.ForeignKeyConstraint(
            ["completion_id"],
            ["completion.id"],
            name=op.f("fk_classification_completion_id_completion"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["mapping_rule.id"], name=op.f("fk_classification_rule_id_mapping_rule")
        ),
        sa.PrimaryKeyConstraint("completion_id", name=op.f("pk_classification")),
    )


def downgrade() -> None:
    op.drop_table("classification")
    op.drop_table("voiding")
    with op.batch_alter_table("employment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_employment_person_id"))
        batch_op.drop_index("ix_employment_employee_id")

    op.drop_table("employment")
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.drop_index("ix_completion_unlinked")
        batch_op.drop_index("ix_completion_person_id")

    op.drop_table("completion")
    op.drop_table("raw_record")
    with op.batch_alter_table("quarantined_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantined_record_source_id"))

    op.drop_table("quarantined_record")
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_run_source_id"))

    op.drop_table("sync_run")
    with op.batch_alter_table("person_identifier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_identifier_person_id"))

    op.drop_table("person_identifier")
    op.drop_table("mapping_rule")
    op.drop_table("coverage_snapshot")
    with op.batch_alter_table("attestation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestation_agency_id"))

    op.drop_table("attestation")
    op.drop_table("source")
    op.drop_table("person")
    op.drop_table("category")
    op.drop_table("audit_log")
    op.drop_table("agency")
