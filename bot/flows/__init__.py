"""Use cases: each one decides through the core, commits state + timeline + outbox, then delivers."""
