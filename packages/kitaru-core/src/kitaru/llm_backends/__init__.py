"""Kitaru's built-in LLM backends, one module per provider SDK."""
