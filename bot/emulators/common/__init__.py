"""Plumbing both loopback emulators share (stdlib only): the threaded HTTP server and its
handler, the fault queue, the token-bucket rate limiter, id counters, the facade's lifecycle
and the ``python -m`` runner. What a request means and how it is answered (error bodies,
rate-limit tiers and headers, TLS …) stays each emulator's own."""
