"""The Django app: ``INSTALLED_APPS += ["structlogx.contrib.django"]``.

It reads structlogx's settings from ``django.conf.settings``, keeps the audit trail in the
application's own database (:class:`~structlogx.contrib.django.store.DjangoStore`), gives
models ``log_action()``/``all_logentries()`` (``LoggedModel``), a template to include, a
read-only admin, request middleware and the ``structlogx_verify`` command. See the Django
how-to in the documentation.

Nothing here imports Django until it is used, so structlogx keeps no runtime dependency.
"""
