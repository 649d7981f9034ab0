"""Hook implementations of the azure plugin."""
