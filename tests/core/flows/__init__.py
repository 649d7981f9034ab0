"""Flows used by the SDK tests (importable by module name, like user code)."""
