"""A tiny shop app: orders that log their changes."""
