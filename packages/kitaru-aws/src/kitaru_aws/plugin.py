"""Hook implementations of the aws plugin."""
