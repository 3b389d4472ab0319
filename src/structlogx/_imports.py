"""Resolve dotted paths (``"package.module.name"``) to objects, for configs written as data."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["import_string"]


def import_string(path: str) -> Any:
    """Import and return the object named by *path* (``module.attr`` or ``module:attr``).

    Raises:
        ImportError: the path is malformed, the module cannot be imported or lacks the name;
            the message names the path.
    """
    if not isinstance(path, str) or not path.strip():
        raise ImportError(f"expected a dotted path such as 'package.module.name', got {path!r}")
    path = path.strip()
    if path.startswith("ext://"):
        path = path[len("ext://") :]
    module_name, sep, attribute = path.partition(":")
    if not sep:
        module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise ImportError(f"{path!r} is not a dotted path of the form 'package.module.name'")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"cannot import {path!r}: {exc}") from exc
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ImportError(
                f"cannot import {path!r}: {module_name!r} has no {attribute!r}"
            ) from None
    return target
