"""Kitaru's built-in artifact serializers (registered through the plugin hook)."""
