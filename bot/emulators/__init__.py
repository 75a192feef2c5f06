"""Loopback emulators of the external services incidentbot talks to (stdlib only)."""
