"""Process-wide settings that handlers, filters and mail backends read at use time.

``settings.DEBUG`` is looked up on every access, so the next record sees a change. Highest
precedence first: active :meth:`Settings.override` layers (innermost first), values from
:meth:`Settings.configure`, the environment variable ``STRUCTLOGX_<NAME>``, the source from
:meth:`Settings.set_source`, then the default. Each setting is one line in the class body
(a :class:`Setting` descriptor), which also gives type checkers the value types. A read costs
a few dict lookups: ``os.environ.get`` of an unset variable takes over a microsecond (it
raises and catches ``KeyError``), so the environment's own dict is read directly, and parsed
values are cached keyed by the raw string, so a changed variable is still seen.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypeVar, cast, overload

__all__ = ["SETTINGS", "Address", "Override", "Setting", "Settings", "settings"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
Kind: TypeAlias = Literal["bool", "int", "float", "str", "list", "addresses", "float?", "str?"]
Address: TypeAlias = str | tuple[str, str]
"""An ``ADMINS``/``MANAGERS`` item: ``"ops@example.com"`` or ``("Ops", "ops@example.com")``."""

_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off", ""})
_KINDS: dict[str, tuple[Any, str]] = {  # kind: (accepted types, description for errors)
    "bool": (bool, "a bool"),
    "int": (int, "an int"),
    "float": ((int, float), "a float (or int)"),
    "str": (str, "a str"),
    "list": ((), "a list or tuple of str"),
    "addresses": ((), "a list or tuple of e-mail strings or (name, email) pairs"),
}
_MISSING: Any = object()
_ENVIRON, _ENV_DATA = os.environ, getattr(os.environ, "_data", None)
_ENCODE: Callable[[str], object] | None = getattr(_ENVIRON, "encodekey", None)
_ENV_DICT: dict[object, Any] | None = _ENV_DATA if isinstance(_ENV_DATA, dict) else None


def _is_item(kind: str, item: object) -> bool:
    if isinstance(item, str) or kind != "addresses":
        return isinstance(item, str)
    return (
        isinstance(item, tuple | list) and len(item) == 2 and all(isinstance(p, str) for p in item)
    )


class Setting(Generic[T]):
    """Declare one setting; its kind drives validation and environment parsing."""

    def __init__(self, default: T, kind: Kind, doc: str) -> None:
        self.default, self.kind, self.doc, self.__doc__ = default, kind, doc, doc
        self.name = self.env_var = ""
        self._env_key: object = None
        self._env_cache: tuple[object, Any] | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.env_var = name, f"STRUCTLOGX_{name}"
        self._env_key = _ENCODE(self.env_var) if _ENCODE else self.env_var

    def __repr__(self) -> str:
        return f"Setting({self.default!r}, {self.kind!r})"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Setting[T]: ...
    @overload
    def __get__(self, obj: Settings, owner: type | None = None) -> T: ...
    def __get__(self, obj: Settings | None, owner: type | None = None) -> Setting[T] | T:
        if obj is None:
            return self
        value = obj._resolve(self)
        # Hand out copies of lists so that a caller's append() cannot change the setting.
        return cast(T, list(value) if type(value) is list else value)

    def __set__(self, obj: Settings, value: T) -> None:
        obj.configure(**{self.name: value})

    def check(self, value: Any, origin: str = "") -> Any:
        """Return *value* normalised (lists copied, ints to float) or raise ``TypeError``."""
        kind = self.kind.rstrip("?")
        if value is None and kind != self.kind:
            return None
        types, expected = _KINDS[kind]
        if kind in ("list", "addresses") and isinstance(value, list | tuple):
            if all(_is_item(kind, item) for item in value):
                return [item if isinstance(item, str) else tuple(item) for item in value]
        elif isinstance(value, types) and (kind == "bool" or not isinstance(value, bool)):
            return float(value) if kind == "float" else value
        expected += " or None" if kind != self.kind else ""
        got = f"{type(value).__name__}: {value!r}"
        raise TypeError(f"{self.name}{origin} must be {expected}, got {got}")

    def parse(self, raw: str) -> Any:
        """Convert the text of ``STRUCTLOGX_<NAME>`` to a value or raise ``ValueError``."""
        kind, text = self.kind.rstrip("?"), raw.strip()
        if not text and kind != self.kind:
            return None
        if kind == "bool" and (text.lower() in _TRUE or text.lower() in _FALSE):
            return text.lower() in _TRUE
        if kind == "bool":
            accepted = "use 1/true/yes/on or 0/false/no/off (any case; empty means false)"
            raise ValueError(f"{self.env_var}={raw!r} is not a boolean; {accepted}")
        if kind in ("int", "float"):
            try:
                return int(text) if kind == "int" else float(text)
            except ValueError:
                raise ValueError(f"{self.env_var}={raw!r} is not {_KINDS[kind][1]}") from None
        return raw if kind == "str" else [item.strip() for item in raw.split(",") if item.strip()]

    def from_env(self) -> Any:
        """Return the parsed environment value, or a sentinel when the variable is unset."""
        if os.environ is _ENVIRON and _ENV_DICT is not None:
            raw: object = _ENV_DICT.get(self._env_key)
        else:  # os.environ was replaced (e.g. by a test) or is not CPython's _Environ
            raw = os.environ.get(self.env_var)
        if raw is None:
            return _MISSING
        cached = self._env_cache
        if cached is None or cached[0] != raw:
            text = raw if isinstance(raw, str) else os.fsdecode(cast(bytes, raw))
            self._env_cache = cached = (raw, self.parse(text))
        return cached[1]


class Override:
    """Values applied for a ``with`` block or a decorated call; see :meth:`Settings.override`."""

    def __init__(self, owner: Settings, values: dict[str, Any]) -> None:
        self._owner, self._values, self._layers = owner, values, list[dict[str, Any]]()

    def __enter__(self) -> Settings:
        layer, owner = dict(self._values), self._owner  # the layer's identity is its token
        self._layers.append(layer)
        with owner._lock:
            owner._layers = (layer, *owner._layers)
        return owner

    def __exit__(self, *exc_info: object) -> None:
        layer, owner = self._layers.pop(), self._owner
        with owner._lock:  # remove by identity: overlapping async overrides unwind correctly
            owner._layers = tuple(other for other in owner._layers if other is not layer)

    def __call__(self, func: F) -> F:
        """Wrap a sync or ``async def`` function so that every call runs with the values."""
        if isinstance(func, type):
            raise TypeError("settings.override() decorates functions, not classes")
        owner, values = self._owner, self._values
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with Override(owner, values):  # one instance per call, so calls may overlap
                    return await func(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with Override(owner, values):
                return func(*args, **kwargs)

        return cast(F, wrapper)


class Settings:
    """Settings with Django-flavoured names; use the module-level :data:`settings` instance."""

    DEBUG = Setting(False, "bool", "Debug mode; RequireDebugFalse drops records while it is on.")
    ADMINS = Setting[list[Address]]([], "addresses", "Who gets error e-mails (AdminEmailHandler).")
    MANAGERS = Setting[list[Address]]([], "addresses", "Who gets manager e-mails.")
    SERVER_EMAIL = Setting("root@localhost", "str", "From address of error e-mails.")
    DEFAULT_FROM_EMAIL = Setting("webmaster@localhost", "str", "From address of other e-mails.")
    EMAIL_SUBJECT_PREFIX = Setting("[structlogx] ", "str", "Prepended verbatim to subjects.")
    INTERNAL_IPS = Setting[list[str]]([], "list", "Client IP addresses treated as internal.")
    EMAIL_BACKEND = Setting("structlogx.mail.backends.SMTPBackend", "str", "Backend class path.")
    EMAIL_HOST = Setting("localhost", "str", "SMTP server host.")
    EMAIL_PORT = Setting(25, "int", "SMTP server port.")
    EMAIL_HOST_USER = Setting("", "str", "SMTP user name; empty means no login.")
    EMAIL_HOST_PASSWORD = Setting("", "str", "SMTP password.")
    EMAIL_USE_TLS = Setting(False, "bool", "Use STARTTLS (usually port 587).")
    EMAIL_USE_SSL = Setting(False, "bool", "Use implicit TLS (usually port 465).")
    EMAIL_TIMEOUT = Setting[float | None](None, "float?", "SMTP timeout in seconds; None: none.")
    EMAIL_SSL_CERTFILE = Setting[str | None](None, "str?", "Client certificate file for TLS.")
    EMAIL_SSL_KEYFILE = Setting[str | None](None, "str?", "Private key file for TLS.")
    EMAIL_FILE_PATH = Setting[str | None](None, "str?", "Directory used by the file backend.")
    EMAIL_USE_LOCALTIME = Setting(False, "bool", "Date headers in local time instead of UTC.")
    AUDIT_STORE = Setting("sqlite:///audit.sqlite3", "str", "URL of the audit trail store.")

    _layers: tuple[dict[str, Any], ...]  # override layers, innermost first; copy-on-write
    _values: dict[str, Any]  # configure() values; copy-on-write
    _source_get: Callable[[str], object] | None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._layers, self._values, self._source_get = (), {}, None

    def configure(self, **values: Any) -> None:
        """Set values for the whole process, e.g. at startup; later calls update earlier ones.

        Raises:
            AttributeError: a name is not a setting (the message suggests close matches).
            TypeError: a value has the wrong type. Nothing changes when anything is raised.
        """
        checked = _check_all(values)
        with self._lock:
            self._values = {**self._values, **checked}

    def override(self, **values: Any) -> Override:
        """Apply values temporarily: as a ``with`` block, or as a sync or async decorator.

        Overrides are process-global, like Django's ``override_settings``: other threads and
        tasks see them while active. They nest and win over every other layer; the values
        are validated now, as in :meth:`configure`.
        """
        return Override(self, _check_all(values))

    def set_source(self, source: object | None) -> None:
        """Fall back to another settings object before the defaults, e.g. Django's.

        Args:
            source: an object with attributes (``django.conf.settings``) or a Mapping; ``None``
                removes it. Names it lacks (``AttributeError``/``KeyError``) fall through to
                the defaults; its other exceptions propagate to the reader.
        """
        if isinstance(source, Mapping):
            self._source_get = source.__getitem__
        else:
            self._source_get = None if source is None else functools.partial(getattr, source)

    def reset(self) -> None:
        """Forget configure() values and the source (for tests); active overrides stay."""
        with self._lock:
            self._values, self._source_get = {}, None

    def as_dict(self) -> dict[str, Any]:
        """Return the effective value of every setting."""
        return {spec.name: getattr(self, spec.name) for spec in SETTINGS}

    @staticmethod
    def names() -> tuple[str, ...]:
        """Return the declared setting names in declaration order."""
        return tuple(_BY_NAME)

    def _resolve(self, spec: Setting[Any]) -> Any:
        name = spec.name
        for layer in self._layers:
            if name in layer:
                return layer[name]
        if name in self._values:
            return self._values[name]
        value = spec.from_env()
        if value is _MISSING and self._source_get is not None:
            try:
                return spec.check(self._source_get(name), " (from the settings source)")
            except (AttributeError, KeyError):
                pass
        return spec.default if value is _MISSING else value

    if not TYPE_CHECKING:  # hidden from type checkers so that they flag misspelt names

        def __getattr__(self, name: str) -> Any:
            raise AttributeError(_unknown(name), name=name, obj=self)

        def __setattr__(self, name: str, value: Any) -> None:
            if not name.startswith("_") and name not in _BY_NAME:
                raise AttributeError(_unknown(name), name=name, obj=self)
            object.__setattr__(self, name, value)  # a setting's __set__ calls configure()


SETTINGS: tuple[Setting[Any], ...] = tuple(
    v for v in vars(Settings).values() if isinstance(v, Setting)
)
"""Every declared setting, in declaration order."""
_BY_NAME = {spec.name: spec for spec in SETTINGS}


def _unknown(name: str) -> str:
    if name.startswith("_"):
        return f"'Settings' object has no attribute {name!r}"
    close = " or ".join(map(repr, difflib.get_close_matches(name.upper(), _BY_NAME, n=3)))
    return f"Unknown setting {name!r}" + (f"; did you mean {close}?" if close else "")


def _check_all(values: Mapping[str, Any]) -> dict[str, Any]:
    for name in values:
        if name not in _BY_NAME:
            raise AttributeError(_unknown(name), name=name)
    return {name: _BY_NAME[name].check(value) for name, value in values.items()}


settings = Settings()
"""The settings singleton consulted by structlogx at use time."""
