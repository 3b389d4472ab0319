"""``manage.py structlogx_verify``: check the hash chain of the audit trail in Django's database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from structlogx.contrib.django.store import DjangoStore


class Command(BaseCommand):  # type: ignore[misc]
    """Verify the chain; exit with status 1 and the problem when it is broken."""

    help = "Check the hash chain of the structlogx audit trail in a Django database."

    def add_arguments(self, parser: Any) -> None:
        """``--database``: the alias (default ``default``)."""
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the check and print its report."""
        report = DjangoStore(using=options["database"]).verify()
        if not report.ok:
            raise CommandError(str(report))
        self.stdout.write(str(report))
