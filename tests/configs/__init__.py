"""Fixture configurations and helpers for the dictconfig and check-config tests.

A package, so that configs name helpers by dotted path (``configs.config_helpers.SpecialFilter``):
pytest puts ``tests/`` on ``sys.path``.
"""
