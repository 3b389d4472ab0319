"""Integrations with web frameworks: Django, WSGI and ASGI."""
