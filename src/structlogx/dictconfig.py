"""Apply a ``LOGGING`` dict the way Django does, after finding every mistake in it.

:func:`configure` follows Django's ``configure_logging``: structlogx's own defaults
(:data:`DEFAULT_LOGGING`) first, then your settings through ``logging.config.dictConfig`` or
another callable. Before anything changes, :func:`validate` reads the dicts and raises one
:class:`ConfigError` that lists every problem it finds, each with its path in the dict
(``handlers.console.formatter``) and, where a close match exists, a suggestion.
:func:`load_config` reads a configuration from a JSON or TOML file, with ``${VAR}``
environment interpolation, or from a Python module (``myproject.settings:LOGGING``).

Validation imports the classes and ``ext://`` objects a configuration names (as ``dictConfig``
would), but it creates no handler and opens no file, so it has no effect on logging.

The module runs past the style guide's ~600 lines: the checker mirrors ``logging.config``'s
rules one section at a time, and loading shares its path format and :class:`Problem` type.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import inspect
import json
import logging
import logging.config
import logging.handlers
import os
import pkgutil
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, cast

from structlogx._imports import import_string

__all__ = [
    "DEFAULT_LOGGING",
    "ConfigError",
    "Problem",
    "configure",
    "default_logging",
    "interpolate_env",
    "load_config",
    "validate",
]

DEFAULT_LOGGING: Final[dict[str, Any]] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "require_debug_false": {"()": "structlogx.filters.RequireDebugFalse"},
        "require_debug_true": {"()": "structlogx.filters.RequireDebugTrue"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "level": "INFO",
            "filters": ["require_debug_true"],
        },
        "mail_admins": {
            "class": "structlogx.handlers.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "loggers": {
        "structlogx": {"handlers": ["console", "mail_admins"], "level": "INFO"},
    },
}
"""structlogx's defaults, applied by :func:`configure` before your settings.

The ``structlogx`` logger is the parent of the loggers structlogx's own modules write to
(``logging.getLogger(__name__)`` inside the package). It takes INFO and above, shows them on
``sys.stderr`` only while ``settings.DEBUG`` is true, and propagates to your root logger as
any logger does, so your own handlers see its warnings and errors in production. Its ERROR
records are also mailed to ``settings.ADMINS`` by ``mail_admins``
(:class:`~structlogx.handlers.AdminEmailHandler`) while ``settings.DEBUG`` is false; with no
admins that handler does nothing. This is Django's ``DEFAULT_LOGGING`` without
``django.server``.

A plain, JSON-able dict, shared by the whole process: never mutate it; change a copy from
:func:`default_logging` and pass that as ``configure(..., defaults=...)``.

:meta hide-value:
"""

_Style = Literal["%", "{", "$"]
_SECTIONS: Final = ("formatters", "filters", "handlers", "loggers")
_TOP_KEYS: Final = frozenset(
    {"version", "incremental", "disable_existing_loggers", "root", *_SECTIONS}
)
_HANDLER_KEYS: Final = frozenset({"class", "()", "formatter", "level", "filters", "."})
_FORMATTER_KEYS: Final = ("format", "datefmt", "style", "validate", "defaults")
_LOGGER_KEYS: Final = ("level", "handlers", "filters", "propagate")
_STYLES: Final = ("%", "{", "$")
_FILTER_OBJECTS: Final = sys.version_info >= (3, 11)  # filters lists may hold filter objects
_IDENT: Final = re.compile(r"^[a-z_][a-z0-9_]*$", re.IGNORECASE)  # logging.config.valid_ident
_PLAIN_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_SPEC: Final = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\Z")
_PLACEHOLDER: Final = re.compile(
    r"\$\$\{"  # an escaped, literal ${
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|\$\{"  # any other ${ is malformed
)


def default_logging() -> dict[str, Any]:
    """Return a fresh deep copy of :data:`DEFAULT_LOGGING`, yours to change."""
    return copy.deepcopy(DEFAULT_LOGGING)


@dataclass(frozen=True)
class Problem:
    """One mistake in a configuration.

    Attributes:
        path: where it is, as keys joined by dots with list indexes and keys that contain dots
            in brackets: ``handlers.console.filters[0]``, ``loggers['django.request'].level``;
            empty for the whole configuration, a file name or a ``module:ATTRIBUTE`` spec for
            problems found while loading.
        message: what is wrong, with a suggestion where one can be made.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '<config>'}: {self.message}"


class ConfigError(ValueError):
    """A logging configuration has problems; ``str()`` lists them, one per line.

    Args:
        problems: every problem found, in the order of the configuration.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(map(str, self.problems)))

    def __reduce__(self) -> tuple[type[ConfigError], tuple[list[Problem]]]:
        return type(self), (self.problems,)


def configure(
    logging_settings: Any,
    logging_config: str | Callable[[Any], object] | None = "logging.config.dictConfig",
    *,
    defaults: Mapping[str, Any] | None = DEFAULT_LOGGING,
) -> None:
    """configure(logging_settings, logging_config="logging.config.dictConfig", *, defaults=DEFAULT_LOGGING)

    Apply the defaults, then *logging_settings*, with Django's ``configure_logging`` rules.

    1. A falsy *logging_config* (``None``, like Django's ``LOGGING_CONFIG = None``) does
       nothing at all: not even the defaults are applied.
    2. *logging_config* is resolved (a dotted path is imported), so a bad path raises before
       anything changes.
    3. When it is ``logging.config.dictConfig``, :func:`validate` checks the defaults and
       *logging_settings*; a :class:`ConfigError` is raised before anything changes.
    4. The defaults are applied with ``logging.config.dictConfig``.
    5. *logging_settings*, when truthy, is passed to the callable.

    Args:
        logging_settings: your ``LOGGING`` dict, or whatever the callable takes (a file name
            for ``logging.config.fileConfig``).
        logging_config: the callable, or its dotted path (``module.name`` or ``module:name``).
        defaults: applied first; :data:`DEFAULT_LOGGING` unless given; ``None`` or ``{}``
            applies no defaults (Django always applies its own).

    Raises:
        ImportError: *logging_config* cannot be imported.
        TypeError: *logging_config* is not callable.
        ConfigError: a dict to apply has problems (for defaults always, for
            *logging_settings* when the callable is ``dictConfig``).

    Nothing is copied: the dicts are read, never changed (``dictConfig`` does not change its
    argument either).
    """  # noqa: E501 - the first line is the signature Sphinx shows (not the default's repr)
    if not logging_config:
        return
    func = import_string(logging_config) if isinstance(logging_config, str) else logging_config
    if not callable(func):
        raise TypeError(
            f"logging_config must be a callable or its dotted path, got {_kind(func)}"
            f" from {logging_config!r}"
        )
    if defaults:
        validate(defaults)
    if logging_settings and func is logging.config.dictConfig:
        validate(logging_settings)
    if defaults:
        logging.config.dictConfig(dict(defaults))
    if logging_settings:
        func(logging_settings)


def validate(config: object) -> None:
    """Check a ``dictConfig`` dict and raise one :class:`ConfigError` listing every problem.

    Found, each at its path:

    * ``version`` missing or not the integer 1;
    * a formatter, filter or handler name that is used but not defined (handlers'
      ``formatter`` and ``filters``, loggers' and root's ``handlers`` and ``filters``, a
      ``MemoryHandler``'s ``target``, a ``QueueHandler``'s ``handlers``);
    * a ``class`` or ``()`` that cannot be imported (with the import error), and any
      ``ext://`` value that cannot;
    * an unknown level name (names are case-sensitive; numbers are accepted);
    * for structlogx classes and factories only, an unknown or missing argument, checked
      against the signature;
    * keys ``dictConfig`` would silently ignore: extra keys of a formatter built without
      ``()``, ``class`` in a filter, unknown keys of a logger, argument names that are not
      identifiers, a misspelt top-level section;
    * ``disable_existing_loggers``, ``incremental`` and ``propagate`` that are not booleans
      (``"false"`` from an environment variable counts as true);
    * an invalid ``style`` or a ``format`` that does not fit it;
    * a section or entry that is not a dict.

    With ``incremental: true`` only the levels are checked, as only they are applied.
    ``cfg://`` references are not followed. Nothing is created and no file is opened.

    Raises:
        ConfigError: at least one problem was found.
    """
    problems = _Checker().check(config)
    if problems:
        raise ConfigError(problems)


def interpolate_env(value: Any, *, environ: Mapping[str, str] | None = None) -> Any:
    """Return *value* with ``${VAR}`` in every string replaced from the environment.

    ``${VAR}`` is the variable's value and an error when it is unset; ``${VAR:-default}`` is
    *default* when the variable is unset or empty (as in the shell; *default* cannot contain
    ``}``); ``$${`` is a literal ``${``. Any other ``${`` is an error, and ``$VAR`` without
    braces stays as it is. Values are interpolated in nested dicts and lists; keys are not.
    The result is always a string: ``"propagate": "${P:-false}"`` gives the string
    ``"false"``, which :func:`validate` reports.

    Args:
        value: a configuration (or any value).
        environ: the variables; ``os.environ`` unless given.

    Raises:
        ConfigError: a variable is not set, or a placeholder is malformed (all of them, each
            with the path of the string).
    """
    problems: list[Problem] = []
    result = _expand(value, "", os.environ if environ is None else environ, problems)
    if problems:
        raise ConfigError(problems)
    return result


def load_config(
    source: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Read a logging configuration from a JSON or TOML file, or from a Python module.

    A ``.json`` or ``.toml`` file is parsed (TOML needs Python 3.11+), and its strings are
    passed through :func:`interpolate_env`. A string of the form ``module:ATTRIBUTE`` (such
    as ``"myproject.settings:LOGGING"``) that is not the name of an existing file imports
    the module and returns the attribute as it is, without interpolation: Python settings
    can read the environment themselves. The result is not validated; :func:`configure`
    (or :func:`validate`) does that.

    Args:
        source: the file, or the ``module:ATTRIBUTE`` spec.
        environ: the variables for interpolation; ``os.environ`` unless given.

    Raises:
        ConfigError: the file cannot be parsed or is not a table/object, its type is not
            supported, a variable is missing, or the module or attribute cannot be imported.
        OSError: the file cannot be read.
    """
    if isinstance(source, str) and _SPEC.match(source) and not os.path.exists(source):
        return _import_config(source)
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise ConfigError([Problem(str(path), f"invalid JSON at {where}: {exc.msg}")]) from None
    elif suffix == ".toml":
        data = _read_toml(path)
    else:
        message = (
            f"unsupported file type {suffix or '(no suffix)'!r}: use a .json or .toml file,"
            " or module:ATTRIBUTE for a dict in Python"
        )
        raise ConfigError([Problem(str(path), message)])
    if not isinstance(data, dict):
        raise ConfigError([Problem(str(path), f"must hold an object, got {_kind(data)}")])
    return cast(dict[str, Any], interpolate_env(data, environ=environ))


def _read_toml(path: Path) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([Problem(str(path), f"invalid TOML: {exc}")]) from None
    version = ".".join(map(str, sys.version_info[:3]))
    message = (
        f"reading TOML needs Python 3.11 or later (tomllib); this is Python {version}:"
        " write the configuration as JSON instead"
    )
    raise ConfigError([Problem(str(path), message)])


def _import_config(spec: str) -> dict[str, Any]:
    module_name, _, attribute = spec.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except Exception as exc:
        message = f"cannot import module {module_name!r}: {_error_text(exc)}"
        raise ConfigError([Problem(spec, message)]) from exc
    for part in attribute.split("."):
        if not hasattr(found, part):
            message = f"{module_name!r} has no attribute {attribute!r}"
            raise ConfigError([Problem(spec, message + _did_you_mean(part, dir(found)))])
        found = getattr(found, part)
    if not isinstance(found, Mapping):
        raise ConfigError([Problem(spec, f"must be a dict, got {_kind(found)}")])
    return found if isinstance(found, dict) else dict(found)


def _expand(value: Any, path: str, environ: Mapping[str, str], problems: list[Problem]) -> Any:
    if isinstance(value, str):
        if "${" not in value:
            return value

        def replace(match: re.Match[str]) -> str:
            name, default = match.group("name"), match.group("default")
            if match.group(0) == "$${":
                return "${"
            if name is None:
                problems.append(
                    Problem(
                        path,
                        f"malformed placeholder in {value!r}: write "
                        "${NAME} or ${NAME:-default}, or $${ for a literal ${",
                    )
                )
                return match.group(0)
            got = environ.get(name)
            if default is not None and not got:
                return default
            if got is None:
                problems.append(
                    Problem(
                        path,
                        f"environment variable {name!r} is not set; set"
                        f" it, or give a default: ${{{name}:-default}}",
                    )
                )
                return match.group(0)
            return got

        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, Mapping):
        return {
            key: _expand(item, _join(path, key), environ, problems) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        items = [_expand(item, _join(path, i), environ, problems) for i, item in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    return value


def _join(path: str, key: object) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    if isinstance(key, str) and _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def _kind(value: object) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    return f"{type(value).__name__} {_short(value)}"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _did_you_mean(word: str, candidates: Iterable[object]) -> str:
    names = [name for name in candidates if isinstance(name, str) and not name.startswith("_")]
    close = difflib.get_close_matches(word, names, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _error_text(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, ImportError) else f"{type(exc).__name__}: {exc}"


class _Unresolvable(Exception):
    pass


def _resolve(dotted: str) -> Any:
    """Import *dotted* the way ``dictConfig`` does (module by module), with a clear error."""
    parts = dotted.removeprefix("ext://").split(".")
    try:
        found: Any = importlib.import_module(parts[0])
    except Exception as exc:
        raise _Unresolvable(f"cannot import {dotted!r}: {_error_text(exc)}") from None
    for index, part in enumerate(parts[1:], start=2):
        if not hasattr(found, part):
            module_name = ".".join(parts[:index])
            try:
                importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise _Unresolvable(f"cannot import {dotted!r}: {exc}") from None
            except Exception as exc:
                raise _Unresolvable(f"cannot import {dotted!r}: {_error_text(exc)}") from None
            if not hasattr(found, part):
                owner = ".".join(parts[: index - 1])
                what = "attribute" if index == len(parts) else "attribute or submodule"
                message = f"cannot import {dotted!r}: {owner!r} has no {what} {part!r}"
                raise _Unresolvable(message + _did_you_mean(part, _members(found)))
        found = getattr(found, part)
    return found


def _members(owner: object) -> list[str]:
    names = dir(owner)
    search = getattr(owner, "__path__", None)  # a package: its submodules too
    if isinstance(search, Iterable):
        names += [info.name for info in pkgutil.iter_modules(search)]
    return names


def _level_names() -> dict[str, int]:
    mapping = getattr(logging, "getLevelNamesMapping", None)  # Python 3.11+
    return dict(mapping()) if mapping is not None else dict(logging._nameToLevel)


def _is_filter_object(item: object) -> bool:
    return not isinstance(item, str) and (callable(item) or callable(getattr(item, "filter", None)))


def _is_structlogx(target: object) -> bool:
    module = getattr(target, "__module__", None)
    return isinstance(module, str) and (module == "structlogx" or module.startswith("structlogx."))


def _label(target: object) -> str:
    module = getattr(target, "__module__", "?")
    return f"{module}.{getattr(target, '__qualname__', type(target).__name__)}"


class _Checker:
    """Collect the problems of one configuration; each method checks one kind of value."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.levels = _level_names()
        self.sections: dict[str, dict[Any, Mapping[Any, Any]]] = {}

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def check(self, config: object) -> list[Problem]:
        if not isinstance(config, Mapping):
            self.add("", f"must be a dict, got {_kind(config)}")
            return self.problems
        self.version(config)
        for key in config:
            if isinstance(key, str) and key not in _TOP_KEYS:
                close = difflib.get_close_matches(key, sorted(_TOP_KEYS), n=1, cutoff=0.8)
                if close:
                    self.add(_join("", key), f"unknown key, ignored; did you mean {close[0]!r}?")
        self.boolean(config, "incremental", "")
        if config.get("incremental") is not True:
            self.boolean(config, "disable_existing_loggers", "")
        sections = self.sections = {name: self.section(config, name) for name in _SECTIONS}
        root = config.get("root")
        if root is not None and not isinstance(root, Mapping):
            self.add("root", f"must be a dict, got {_kind(root)}")
            root = None
        if config.get("incremental") is True:  # only levels are applied incrementally
            for kind in ("handlers", "loggers"):
                for name, entry in sections[kind].items():
                    self.level(_join(_join(kind, name), "level"), entry.get("level"))
            if root:
                self.level("root.level", root.get("level"))
            return self.problems
        for name, entry in sections["formatters"].items():
            self.formatter(_join("formatters", name), entry)
        for name, entry in sections["filters"].items():
            self.filter(_join("filters", name), entry)
        for name, entry in sections["handlers"].items():
            self.handler(_join("handlers", name), name, entry)
        for name, entry in sections["loggers"].items():
            self.logger(_join("loggers", name), entry)
        if root:
            self.logger("root", root)
        return self.problems

    def version(self, config: Mapping[Any, Any]) -> None:
        if "version" not in config:
            self.add("version", 'missing; add "version": 1 (the only dictConfig version)')
        elif type(config["version"]) is not int or config["version"] != 1:
            self.add("version", f"must be the integer 1, got {_kind(config['version'])}")

    def section(self, config: Mapping[Any, Any], name: str) -> dict[Any, Mapping[Any, Any]]:
        value = config.get(name, {})
        if not isinstance(value, Mapping):
            self.add(name, f"must be a dict of name: settings, got {_kind(value)}")
            return {}
        entries = {}
        for key, entry in value.items():
            if isinstance(entry, Mapping):
                entries[key] = entry
            else:
                self.add(_join(name, key), f"must be a dict of settings, got {_kind(entry)}")
        return entries

    def boolean(self, container: Mapping[Any, Any], key: str, path: str) -> None:
        if key in container and not isinstance(container[key], bool):
            value = container[key]
            note = (
                " (a non-empty string counts as true)" if isinstance(value, str) and value else ""
            )
            self.add(_join(path, key), f"must be true or false, got {_kind(value)}{note}")

    def level(self, path: str, value: object) -> None:
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return
        if not isinstance(value, str):
            self.add(path, f"must be a level name such as 'INFO' or a number, got {_kind(value)}")
        elif value not in self.levels:
            message = f"unknown level {value!r}"
            if value.upper() in self.levels:
                message += f"; did you mean {value.upper()!r}? (level names are case-sensitive)"
            elif value.strip().isdigit():
                message += f"; did you mean the number {int(value)}?"
            else:
                close = difflib.get_close_matches(value.upper(), self.levels, n=1)
                known = sorted(self.levels, key=self.levels.__getitem__)
                message += (
                    f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
                )
            self.add(path, message)

    def ref(self, path: str, value: object, kind: str) -> None:
        defined = self.sections[kind]
        if isinstance(value, str) and (value in defined or value.startswith("cfg://")):
            return
        if not isinstance(value, str):
            self.add(path, f"must be the name of one of the {kind}, got {_kind(value)}")
            return
        message = f"{value!r} is not defined"
        hint = _did_you_mean(value, defined)
        if hint:
            message += hint
        elif defined:
            message += f"; the {kind} are {', '.join(map(repr, defined))}"
        else:
            message += f"; there are no {kind}"
        self.add(path, message)

    def refs(self, path: str, value: object, kind: str) -> None:
        if not value:
            return
        if not isinstance(value, list | tuple):
            hint = f"; write [{value!r}]" if isinstance(value, str) else ""
            self.add(path, f"must be a list of names, got {_kind(value)}{hint}")
            return
        for index, item in enumerate(value):
            if kind == "filters" and _FILTER_OBJECTS and _is_filter_object(item):
                continue  # a filter object in a Python dict
            self.ref(_join(path, index), item, kind)

    def factory(self, path: str, value: object) -> Any:
        """Return the class or callable named at *path*, or None (reported, or cfg://)."""
        if callable(value):
            return value
        if not isinstance(value, str) or not value:
            self.add(
                path, f"must be a dotted path such as 'logging.StreamHandler', got {_kind(value)}"
            )
            return None
        if value.startswith("cfg://"):
            return None
        try:
            target = _resolve(value)
        except _Unresolvable as exc:
            self.add(path, str(exc))
            return None
        if not callable(target):
            self.add(path, f"{value!r} is {_kind(target)}, not a class or callable")
            return None
        return target

    def arguments(self, path: str, entry: Mapping[Any, Any], reserved: Iterable[str]) -> list[str]:
        """Return the keys dictConfig passes as arguments; report those it drops."""
        names = []
        for key in entry:
            if key in reserved:
                continue
            if isinstance(key, str) and _IDENT.match(key):
                names.append(key)
            else:
                self.add(_join(path, key), "not a valid argument name; dictConfig ignores it")
        return names

    def signature(self, path: str, target: Any, names: Sequence[str], *, fmt: bool = False) -> None:
        """Check *names* against a structlogx class's or function's signature."""
        if not _is_structlogx(target):
            return
        try:
            parameters = inspect.signature(target).parameters
        except (TypeError, ValueError):
            return
        kinds = inspect.Parameter
        named = [
            p.name
            for p in parameters.values()
            if p.kind in (kinds.POSITIONAL_OR_KEYWORD, kinds.KEYWORD_ONLY)
        ]
        open_ended = any(p.kind is kinds.VAR_KEYWORD for p in parameters.values())
        given = set(names)
        renamed = fmt and "format" in given and "format" not in named and "fmt" in named
        if renamed:
            given = (given - {"format"}) | {"fmt"}  # dictConfig retries 'format' as 'fmt'
        for name in names:
            if open_ended or name in named or (renamed and name == "format"):
                continue
            known = f"; it takes {', '.join(named)}" if named else "; it takes no arguments"
            hint = _did_you_mean(name, named) or known
            self.add(_join(path, name), f"unknown argument {name!r} for {_label(target)}{hint}")
        for parameter in parameters.values():
            required = parameter.default is kinds.empty and parameter.kind not in (
                kinds.VAR_POSITIONAL,
                kinds.VAR_KEYWORD,
            )
            if required and parameter.name not in given:
                self.add(path, f"missing argument {parameter.name!r} for {_label(target)}")

    def ext_values(self, path: str, value: object) -> None:
        if isinstance(value, str):
            if value.startswith("ext://"):
                try:
                    _resolve(value)
                except _Unresolvable as exc:
                    self.add(path, str(exc))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if key not in ("class", "()"):
                    self.ext_values(_join(path, key), item)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                self.ext_values(_join(path, index), item)

    def formatter(self, path: str, entry: Mapping[Any, Any]) -> None:
        self.ext_values(path, entry)
        if "()" in entry:
            target = self.factory(_join(path, "()"), entry["()"])
            names = self.arguments(path, entry, ("()", "."))
            if target is not None:
                self.signature(path, target, names, fmt=True)
            return
        cls: Any = logging.Formatter
        if entry.get("class") is not None:
            cls = self.factory(_join(path, "class"), entry["class"])
        how = 'with "class"' if "class" in entry else 'without "()"'
        for key in entry:
            if key != "class" and key not in _FORMATTER_KEYS:
                self.add(
                    _join(path, key),
                    f"ignored: a formatter {how} takes only format, datefmt, style, validate"
                    f' and defaults; build it with "()" to pass {key!r}',
                )
        if "defaults" in entry and sys.version_info < (3, 12):
            self.add(_join(path, "defaults"), 'ignored before Python 3.12; use "()" to pass it')
        style, fmt = entry.get("style", "%"), entry.get("format")
        if style not in _STYLES:
            self.add(_join(path, "style"), f"must be '%', '{{' or '$', got {_kind(style)}")
        elif (
            isinstance(fmt, str)
            and entry.get("validate", True)
            and isinstance(cls, type)
            and issubclass(cls, logging.Formatter)
        ):
            try:
                logging.Formatter(fmt, style=cast(_Style, style), validate=True)
            except (ValueError, TypeError) as exc:
                self.add(_join(path, "format"), f"{exc} (style {style!r})")

    def filter(self, path: str, entry: Mapping[Any, Any]) -> None:
        self.ext_values(path, entry)
        if "()" in entry:
            target = self.factory(_join(path, "()"), entry["()"])
            names = self.arguments(path, entry, ("()", "."))
            if target is not None:
                self.signature(path, target, names)
            return
        for key in entry:
            if key == "class":
                self.add(
                    _join(path, key),
                    'ignored: filters are built with "()", not "class"; as written this is a'
                    " plain logging.Filter that passes every record",
                )
            elif key != "name":
                self.add(_join(path, key), 'ignored: a filter without "()" takes only "name"')

    def handler(self, path: str, name: object, entry: Mapping[Any, Any]) -> None:
        self.level(_join(path, "level"), entry.get("level"))
        if entry.get("formatter"):
            self.ref(_join(path, "formatter"), entry["formatter"], "formatters")
        self.refs(_join(path, "filters"), entry.get("filters"), "filters")
        names = self.arguments(path, entry, _HANDLER_KEYS)
        self.ext_values(path, entry)
        if "()" in entry:
            target = self.factory(_join(path, "()"), entry["()"])
        elif "class" in entry:
            target = self.factory(_join(path, "class"), entry["class"])
            if isinstance(target, type) and not issubclass(target, logging.Handler):
                self.add(_join(path, "class"), f"{_label(target)} is not a logging.Handler")
                return
        else:
            self.add(path, 'needs "class" (a logging.Handler subclass) or "()" (a factory)')
            return
        if target is None:
            return
        if "class" in entry and "()" not in entry and isinstance(target, type):
            if issubclass(target, logging.handlers.MemoryHandler):
                self.level(_join(path, "flushLevel"), entry.get("flushLevel"))
                if "target" in entry:
                    self.ref(_join(path, "target"), entry["target"], "handlers")
                    if entry["target"] == name:
                        self.add(_join(path, "target"), "a handler cannot be its own target")
            elif issubclass(target, logging.handlers.QueueHandler):
                self.refs(_join(path, "handlers"), entry.get("handlers"), "handlers")
                return  # dictConfig builds queue handlers its own way
        self.signature(path, target, names)

    def logger(self, path: str, entry: Mapping[Any, Any]) -> None:
        self.level(_join(path, "level"), entry.get("level"))
        self.refs(_join(path, "handlers"), entry.get("handlers"), "handlers")
        self.refs(_join(path, "filters"), entry.get("filters"), "filters")
        self.boolean(entry, "propagate", path)  # ignored on the root logger, but harmless
        for key in entry:
            if key not in _LOGGER_KEYS:
                hint = (
                    _did_you_mean(str(key), _LOGGER_KEYS)
                    or f"; a logger takes {', '.join(_LOGGER_KEYS)}"
                )
                self.add(_join(path, key), f"unknown key, ignored{hint}")
