"""CLI commands, one module per question; each module exposes `register(app)`."""
