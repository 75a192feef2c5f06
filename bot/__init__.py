"""incidentbot: ChatOps incident response for Slack."""
