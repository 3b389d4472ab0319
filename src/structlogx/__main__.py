"""``python -m structlogx``: the same as the ``structlogx`` command."""

from structlogx.cli import main

raise SystemExit(main())
