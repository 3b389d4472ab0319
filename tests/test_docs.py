"""Every public module is in the API reference, and every public callable has a docstring."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import structlogx

API = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text(encoding="utf-8")
PUBLIC_MODULES = sorted(
    f"structlogx.{info.name}"
    for info in pkgutil.iter_modules(structlogx.__path__)
    if not info.name.startswith("_")
)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_module_is_in_the_api_reference(module_name: str) -> None:
    assert re.search(rf"automodule:: {re.escape(module_name)}\n", API), module_name


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_callables_have_docstrings(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert module.__doc__, module_name
    undocumented = [
        name
        for name in getattr(module, "__all__", ())
        if callable(getattr(module, name)) and not (getattr(module, name).__doc__ or "").strip()
    ]
    assert undocumented == []


def test_package_exports_exist() -> None:
    missing = [name for name in structlogx.__all__ if not hasattr(structlogx, name)]
    assert missing == []
