"""What the repositories' tests share: an incident to hang pages, steps and follow-ups on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.store.db import Database
from bot.store.models import Incident

T0 = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
def incident_id(db: Database) -> int:
    with db.transaction() as session:
        incident = Incident(
            title="Checkout down",
            severity="SEV2",
            status="investigating",
            source="chat",
            conversation_id="C-checkout",
            created_at=T0,
            updated_at=T0,
        )
        session.add(incident)
        session.flush()
        assert incident.id is not None
        return incident.id
