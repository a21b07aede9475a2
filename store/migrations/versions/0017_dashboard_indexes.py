"""index the hub dashboard: agencies by lowercased name (its default order, walked for one
page), each agency's newest status (its counts by status), and its three shares (sorted by one)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SHARES = {
    "crisis": ("sworn_crisis", "sworn_total"),
    "trained": ("sworn_trained", "sworn_total"),
    "nonsworn": ("nonsworn_trained", "nonsworn_selected_total"),
}


def upgrade() -> None:
    op.create_index("ix_agency_name_key", "agency", [sa.text("lower(name)"), "id"])
    op.create_index(op.f("ix_coverage_latest_status"), "coverage_latest", ["status"])
    for name, (part, whole) in SHARES.items():
        key = sa.text(f"(CAST({part} AS FLOAT) / NULLIF({whole}, 0))")
        op.create_index(f"ix_coverage_latest_{name}_key", "coverage_latest", [key, "agency_id"])


def downgrade() -> None:
    for name in SHARES:
        op.drop_index(f"ix_coverage_latest_{name}_key", table_name="coverage_latest")
    op.drop_index(op.f("ix_coverage_latest_status"), table_name="coverage_latest")
    op.drop_index("ix_agency_name_key", table_name="agency")
