"""Hostile-input tests: crafted inputs generated at test time (small on disk), one module
per class of attack or fault, each asserting the exact outcome (message, exit code,
bounded time and memory, published data unchanged)."""
