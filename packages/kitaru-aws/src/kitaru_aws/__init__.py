"""Kitaru aws plugin."""
