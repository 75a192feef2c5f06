"""The ASGI app: Slack endpoint, JSON API, health, metrics."""
