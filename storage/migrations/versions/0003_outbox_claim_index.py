"""outbox: an index in the sender's claim order (status, priority desc, id)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 08:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_claim_order", "outbox", ["status", sa.text("priority DESC"), "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_claim_order", table_name="outbox")
