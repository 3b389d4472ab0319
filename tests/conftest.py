"""Shared pytest plugins: the real SMTP server fixtures from ``tests/smtp_server.py``."""

pytest_plugins = ["smtp_server"]
