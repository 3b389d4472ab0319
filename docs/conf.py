"""Sphinx configuration for the structlogx documentation.

Build (as CI does): ``sphinx-build -W --keep-going -q -b html docs docs/_build/html``
with structlogx installed (``pip install -e '.[docs]'``). No network access is needed.
"""

from __future__ import annotations

import structlogx

project = "structlogx"
author = "The structlogx team"
copyright = "The structlogx team"  # noqa: A001 - the name Sphinx reads
version = structlogx.__version__
release = structlogx.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"

napoleon_google_docstring = True
napoleon_numpy_docstring = False

nitpicky = False

html_theme = "alabaster"
html_title = f"structlogx {release}"
html_theme_options = {"description": "Structured logging and audit records on stdlib logging"}
