"""index the hub dashboard: agencies by lowercased name (its default order, walked for one
page), each agency's newest status (its counts by status)

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


def upgrade() -> None:
    op.create_index("ix_agency_name_key", "agency", [sa.text("lower(name)"), "id"])
    op.create_index(op.f("ix_coverage_latest_status"), "coverage_latest", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_coverage_latest_status"), table_name="coverage_latest")
    op.drop_index("ix_agency_name_key", table_name="agency")
