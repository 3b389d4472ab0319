"""Run the Django integration tests with Django's own test runner.

``python tests/django_project/runtests.py`` exits non-zero when a test fails.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    """Set up the test site and run the shop's tests."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    os.environ["DJANGO_SETTINGS_MODULE"] = "testsite.settings"

    import django
    from django.conf import settings
    from django.test.utils import get_runner

    django.setup()
    runner = get_runner(settings)(verbosity=2 if "-v" in sys.argv else 1, interactive=False)
    failures = runner.run_tests(["shop"])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
