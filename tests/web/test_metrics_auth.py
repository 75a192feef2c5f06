"""/metrics is public unless METRICS_TOKEN is set. Public, it counts no private incident; behind
the token (a trusted scraper, like the API token's holder) it counts them all."""

from __future__ import annotations

from bot.sandbox import ScriptedClock
from bot.store.db import Database
from tests.web.conftest import NOW, Replica, add_incident, client_at

SCRAPE_TOKEN = "scrape-token-0123456789"


def _open(db: Database) -> None:
    add_incident(
        db, title="Private", severity="SEV1", status="investigating", start=NOW, private=True
    )
    add_incident(db, title="Public", severity="SEV2", status="investigating", start=NOW)


def test_public_metrics_leave_private_incidents_out(
    db: Database, replicas: tuple[Replica, ScriptedClock]
) -> None:
    replica, _clock = replicas
    _open(db)
    body = client_at(replica().web, "192.0.2.20").get("/metrics")
    assert body.status_code == 200
    assert 'incidentbot_open_incidents{severity="SEV2"} 1.0' in body.text
    assert 'severity="SEV1"' not in body.text


def test_metrics_token_protects_metrics_and_then_counts_everything(
    db: Database, replicas: tuple[Replica, ScriptedClock]
) -> None:
    replica, _clock = replicas
    _open(db)
    c = client_at(replica(metrics_token=SCRAPE_TOKEN).web, "192.0.2.21")
    anonymous = c.get("/metrics")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert "incidentbot_" not in anonymous.text
    assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    # the API token is not the metrics token
    assert (
        c.get("/metrics", headers={"Authorization": "Bearer web-test-token-0123456789"}).status_code
        == 401
    )
    scraped = c.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert scraped.status_code == 200
    assert 'incidentbot_open_incidents{severity="SEV1"} 1.0' in scraped.text
    assert 'incidentbot_open_incidents{severity="SEV2"} 1.0' in scraped.text
    assert 'incidentbot_unauthorized_requests_total{endpoint="metrics"} 3.0' in scraped.text
