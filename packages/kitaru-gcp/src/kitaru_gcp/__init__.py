"""Kitaru gcp plugin."""
