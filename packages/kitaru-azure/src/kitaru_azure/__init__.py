"""Kitaru azure plugin."""
