"""Migrations of the structlogx Django app."""
