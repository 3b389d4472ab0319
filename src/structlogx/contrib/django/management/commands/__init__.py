"""Management commands of the structlogx Django app."""
