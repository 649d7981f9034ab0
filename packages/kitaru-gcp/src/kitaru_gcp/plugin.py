"""Hook implementations of the gcp plugin."""
