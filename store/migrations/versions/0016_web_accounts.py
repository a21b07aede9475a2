"""web accounts, API tokens, login attempts; attestation evidence files and rejection;
each agency's newest snapshot date

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 13:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LATEST_COUNTS = (
    "sworn_total",
    "sworn_crisis",
    "sworn_trained",
    "nonsworn_selected_total",
    "nonsworn_trained",
)
ATTESTATION_COLUMNS = (
    ("evidence_file", sa.String(100)),
    ("evidence_name", sa.String(300)),
    ("evidence_type", sa.String(100)),
    ("rejected_at", sa.DateTime(timezone=True)),
    ("rejected_by", sa.String(200)),
    ("rejection_reason", sa.Text()),
)


def upgrade() -> None:
    op.create_table(
        "web_user",
        sa.Column("id", Id, nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("agencies", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_user")),
        sa.UniqueConstraint("username", name=op.f("uq_web_user_username")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["web_user.id"], name=op.f("fk_api_token_user_id_web_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"])
    op.create_table(
        "login_attempt",
        sa.Column("id", Id, nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    op.create_index("ix_login_attempt_username_at", "login_attempt", ["username", "at"])
    op.create_table(
        "web_secret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_secret")),
    )
    for name, kind in ATTESTATION_COLUMNS:
        op.add_column("attestation", sa.Column(name, kind, nullable=True))
    op.create_table(
        "coverage_latest",
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in LATEST_COUNTS),
        sa.Column("partnership", sa.Boolean(), nullable=False),
        sa.Column("policy", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_coverage_latest_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_coverage_latest")),
    )
    copied = ", ".join(["agency_id", "as_of", "status", *LATEST_COUNTS, "partnership", "policy"])
    op.execute(
        f"INSERT INTO coverage_latest ({copied}) SELECT {copied} FROM coverage_snapshot s "
        "WHERE s.as_of = (SELECT max(n.as_of) FROM coverage_snapshot n "
        "WHERE n.agency_id = s.agency_id)"
    )


def downgrade() -> None:
    op.drop_table("coverage_latest")
    # plain DROP COLUMNs (SQLite 3.35+), as 0011 does: no batch copy of a referenced table
    for name, _ in reversed(ATTESTATION_COLUMNS):
        op.drop_column("attestation", name)
    op.drop_table("web_secret")
    op.drop_index("ix_login_attempt_username_at", table_name="login_attempt")
    op.drop_table("login_attempt")
    op.drop_index(op.f("ix_api_token_user_id"), table_name="api_token")
    op.drop_table("api_token")
    op.drop_table("web_user")
