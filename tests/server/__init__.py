"""Local server, remote connection and dashboard tests (one shared server per session)."""
