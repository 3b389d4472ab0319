"""Process-wide settings that handlers, filters and mail backends read at use time.

Each setting is one line in the :class:`Settings` body (a :class:`Setting` descriptor), which
also gives type checkers the value types. Every read sees the current value, so a change is
seen by the next record: a read reuses the value last resolved only while the layers, the
source and the environment variable are the same objects, which costs one dict lookup.
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
"""An ``ADMINS``/``MANAGERS`` item, ``"ops@example.com"`` or ``("Ops", "ops@example.com")``."""

_TRUE, _FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off", ""})
_KINDS: dict[str, tuple[Any, Any, str]] = {  # kind: (exact type, accepted types, description)
    "bool": (bool, bool, "a bool"), "int": (int, int, "an int"), "str": (str, str, "a str"),
    "float": (float, (int, float), "a float or int"), "list": (None, (), "a list or tuple of str"),
    "addresses": (None, (), "a list or tuple of e-mail strings or (name, email) pairs"),
}
_MISSING: Any = object()
_ENVIRON = os.environ  # CPython's _Environ: a dict of encoded names, and encodekey()
_ENCODE: Callable[[str], object] | None = getattr(_ENVIRON, "encodekey", None)
_ENV_DICT: dict[object, Any] | None = getattr(_ENVIRON, "_data", None) if _ENCODE else None
if not isinstance(_ENV_DICT, dict):
    _ENV_DICT = None
# Reads cache only while os.environ is this object: anything else (no _data) never matches.
_CACHING_ENVIRON: object = _ENVIRON if _ENV_DICT is not None else object()
_ENV_GET: Callable[[object], Any] = dict[object, Any]().get if _ENV_DICT is None else _ENV_DICT.get


def _is_pair(x: object) -> bool:
    return isinstance(x, tuple | list) and len(x) == 2 and all(isinstance(p, str) for p in x)


class Setting(Generic[T]):
    """Declare one setting; its kind drives validation and environment parsing."""

    def __init__(self, default: T, kind: Kind, doc: str) -> None:
        self.default, self.kind, self.doc = default, kind, doc  # doc: one line, no colon
        self._base, self._optional = kind.rstrip("?"), kind.endswith("?")
        self._exact, self._types, self._expected = _KINDS[self._base]
        self.name = self.env_var = ""
        self._env_key: object = None
        self._env_cache: tuple[object, Any] | None = None
        self._cache: tuple[object, object, object, Any] = (None, None, None, None)  # _read

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.env_var = name, f"STRUCTLOGX_{name}"
        self.__doc__ = f"{self.doc}\n\nDefault ``{self.default!r}``, env ``{self.env_var}``."
        self._env_key = _ENCODE(self.env_var) if _ENCODE else self.env_var

    def __repr__(self) -> str:
        return f"Setting({self.default!r}, {self.kind!r})"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Setting[T]: ...  # class access
    @overload
    def __get__(self, obj: Settings, owner: type | None = None) -> T: ...
    def __get__(self, obj: Settings | None, owner: type | None = None) -> Any:
        """Return the value, reusing the last one while the objects it came from are the same.

        The cache key is identities that change whenever the value could: the layers tuple
        (every writer replaces it, none mutates a layer), the source function and the raw
        environment value (immutable). The entry holds them, so their ids are not reused.
        """
        if obj is None:
            return self
        return self._read(obj._state)  # obj._state: the one read Settings.__getattr__ slows

    def _read(self, state: _State) -> Any:
        """Read the setting from *state* (``__get__``'s work; filters call it directly)."""
        layers, raw, source, value = self._cache
        if (
            layers is state.layers
            and source is state.source_get
            and os.environ is _CACHING_ENVIRON
            and _ENV_GET(self._env_key) is raw
        ):
            return value[:] if type(value) is list else value
        return self._resolve(state)

    def _resolve(self, state: _State) -> Any:
        layers, get, name = state.layers, state.source_get, self.name
        caching = os.environ is _CACHING_ENVIRON  # read each input once: the key matches
        raw = _ENV_GET(self._env_key) if caching else None
        for layer in layers:
            if name in layer:
                value = layer[name]
                break
        else:
            if not caching:  # os.environ was replaced (e.g. by a test) or is not CPython's
                raw = os.environ.get(self.env_var)
            if raw is not None:
                value = self._parse_raw(raw)
            elif get is None:
                value = self.default
            else:  # a source (such as Django's settings) may change underneath: no caching
                value, caching = self._from_source(get), False
        if caching:
            self._cache = (layers, raw, get, value)
        # Hand out copies of lists so that a caller's append() cannot change the setting.
        return value[:] if type(value) is list else value

    def __set__(self, obj: Settings, value: T) -> None:
        obj.configure(**{self.name: value})

    def check(self, value: Any, origin: str = "") -> Any:
        """Return *value* normalised (lists copied, ints to float) or raise ``TypeError``."""
        if type(value) is self._exact or (value is None and self._optional):
            return value  # the fast path, taken for every read from a source
        kind = self._base
        if kind in ("list", "addresses") and isinstance(value, list | tuple):
            if all(isinstance(i, str) or (kind == "addresses" and _is_pair(i)) for i in value):
                return [i if isinstance(i, str) else tuple(i) for i in value]
        elif isinstance(value, self._types) and kind != "bool" and not isinstance(value, bool):
            return float(value) if kind == "float" else value  # int and str subclasses, int
        expected = self._expected + (" or None" if self._optional else "")
        got = f"{type(value).__name__}: {value!r}"
        raise TypeError(f"{self.name}{origin} must be {expected}, got {got}")

    def parse(self, raw: str) -> Any:
        """Convert the text of ``STRUCTLOGX_<NAME>`` to a value or raise ``ValueError``."""
        kind, text = self._base, raw.strip()
        if not text and self._optional:
            return None
        if kind == "bool":
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            accepted = "use 1/true/yes/on or 0/false/no/off (any case; empty means false)"
            raise ValueError(f"{self.env_var}={raw!r} is not a boolean; {accepted}")
        if kind in ("int", "float"):
            try:
                return int(text) if kind == "int" else float(text)
            except ValueError:
                raise ValueError(f"{self.env_var}={raw!r} is not {self._expected}") from None
        return raw if kind == "str" else [item.strip() for item in raw.split(",") if item.strip()]

    def from_env(self) -> Any:
        """Return the parsed ``STRUCTLOGX_<NAME>``, or a sentinel when it is unset.

        Reads the environment's own dict (``os.environ.get`` of an unset name costs >1 µs);
        caches the parsed value keyed by the raw string, so a changed variable is still seen.
        """
        if os.environ is _CACHING_ENVIRON:
            raw: object = _ENV_GET(self._env_key)
        else:  # os.environ was replaced (e.g. by a test) or is not CPython's _Environ
            raw = os.environ.get(self.env_var)
        return _MISSING if raw is None else self._parse_raw(raw)

    def _parse_raw(self, raw: object) -> Any:
        cached = self._env_cache
        if cached is None or cached[0] != raw:
            text = raw if isinstance(raw, str) else os.fsdecode(cast(bytes, raw))
            self._env_cache = cached = (raw, self.parse(text))
        return cached[1]

    def _from_source(self, get: Callable[[str], object]) -> Any:
        try:
            return self.check(get(self.name), " (from the settings source)")
        except (AttributeError, KeyError):
            return self.default


class _State:
    __slots__ = ("layers", "lock", "source_get")

    def __init__(self) -> None:
        # Override layers, innermost first, then the configure() values. Writers replace the
        # tuple under the lock (copy-on-write), so readers need no lock.
        self.layers: tuple[dict[str, Any], ...] = ({},)
        self.lock = threading.Lock()
        self.source_get: Callable[[str], object] | None = None


class Override:
    """Values applied for a ``with`` block or a decorated call; see :meth:`Settings.override`."""

    def __init__(self, owner: Settings, values: dict[str, Any]) -> None:
        self._owner, self._values, self._layers = owner, values, list[dict[str, Any]]()

    def __enter__(self) -> Settings:
        layer, state = dict(self._values), self._owner._state  # the layer's identity: a token
        self._layers.append(layer)
        with state.lock:
            state.layers = (layer, *state.layers)
        return self._owner

    def __exit__(self, *exc_info: object) -> None:
        layer, state = self._layers.pop(), self._owner._state
        with state.lock:  # remove by identity: overlapping async overrides unwind correctly
            state.layers = tuple(other for other in state.layers if other is not layer)

    def __call__(self, func: F) -> F:
        """Wrap a sync or ``async def`` function so that every call runs with the values."""
        if isinstance(func, type):
            raise TypeError("settings.override() decorates functions, not classes")
        fresh = functools.partial(Override, self._owner, self._values)  # calls may overlap

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with fresh():
                return func(*args, **kwargs)

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            with fresh():
                return await func(*args, **kwargs)

        return cast(F, async_wrapper if inspect.iscoroutinefunction(func) else wrapper)


class Settings:
    """Settings with Django-flavoured names; use the module-level :data:`settings` instance."""

    DEBUG = Setting(False, "bool", "Debug mode (on in development, off in production).")
    ADMINS = Setting[list[Address]]([], "addresses", "Recipients of error e-mails.")
    MANAGERS = Setting[list[Address]]([], "addresses", "Recipients of manager e-mails.")
    SERVER_EMAIL = Setting("root@localhost", "str", "From address of error e-mails.")
    DEFAULT_FROM_EMAIL = Setting("webmaster@localhost", "str", "From address of other e-mails.")
    EMAIL_SUBJECT_PREFIX = Setting("[structlogx] ", "str", "Prepended verbatim to subjects.")
    INTERNAL_IPS = Setting[list[str]]([], "list", "Client IP addresses treated as internal.")
    EMAIL_BACKEND = Setting("structlogx.mail.backends.SMTPBackend", "str", "E-mail backend class.")
    EMAIL_HOST = Setting("localhost", "str", "SMTP server host.")
    EMAIL_PORT = Setting(25, "int", "SMTP server port.")
    EMAIL_HOST_USER = Setting("", "str", "SMTP user name; empty means no login.")
    EMAIL_HOST_PASSWORD = Setting("", "str", "SMTP password.")
    EMAIL_USE_TLS = Setting(False, "bool", "Use STARTTLS (usually port 587).")
    EMAIL_USE_SSL = Setting(False, "bool", "Use implicit TLS (usually port 465).")
    EMAIL_TIMEOUT = Setting[float | None](10.0, "float?", "SMTP timeout in seconds; None means 10.")
    EMAIL_SSL_CERTFILE = Setting[str | None](None, "str?", "Client certificate file for TLS.")
    EMAIL_SSL_KEYFILE = Setting[str | None](None, "str?", "Private key file for TLS.")
    EMAIL_FILE_PATH = Setting[str | None](None, "str?", "Directory used by the file backend.")
    EMAIL_USE_LOCALTIME = Setting(False, "bool", "E-mail Date header in local time.")
    AUDIT_STORE = Setting("sqlite:///audit.sqlite3", "str", "URL of the audit trail store.")

    __slots__ = ("_state",)  # one slot: reads of it are the only ones __getattr__ slows down

    def __init__(self) -> None:
        self._state = _State()

    def configure(self, **values: Any) -> None:
        """Set values for the whole process (at startup); later calls update earlier ones.

        Raises:
            AttributeError: unknown name (the message suggests close matches).
            TypeError: wrong value type. Nothing changes when anything is raised.
        """
        checked, state = _check_all(values), self._state
        with state.lock:
            state.layers = (*state.layers[:-1], {**state.layers[-1], **checked})

    def override(self, **values: Any) -> Override:
        """Apply values temporarily: a ``with`` block, or a sync or async function decorator.

        Validated now, as in :meth:`configure`. Process-global like Django's
        ``override_settings``: other threads and tasks see them while they are active.
        """
        return Override(self, _check_all(values))

    def set_source(self, source: object | None) -> None:
        """Fall back to another settings object before the defaults, e.g. Django's.

        Args:
            source: an object with attributes (``django.conf.settings``) or a Mapping; ``None``
                removes it. Names it lacks (``AttributeError``/``KeyError``) fall through to
                the defaults; its other exceptions propagate to the reader.
        """
        self._state.source_get = (
            source.__getitem__ if isinstance(source, Mapping)
            else None if source is None else functools.partial(getattr, source)
        )

    def reset(self) -> None:
        """Forget configure() values and the source (for tests); active overrides stay."""
        state = self._state
        with state.lock:
            state.layers, state.source_get = (*state.layers[:-1], {}), None

    def as_dict(self) -> dict[str, Any]:
        """Return the effective value of every setting."""
        return {spec.name: getattr(self, spec.name) for spec in SETTINGS}

    @staticmethod
    def names() -> tuple[str, ...]:
        """Return the declared setting names in declaration order."""
        return tuple(_BY_NAME)

    if not TYPE_CHECKING:  # hidden from type checkers so that they flag misspelt names

        def __getattr__(self, name: str) -> Any:
            raise AttributeError(_unknown(name), name=name, obj=self)

        def __setattr__(self, name: str, value: Any) -> None:
            if not name.startswith("_") and name not in _BY_NAME:
                raise AttributeError(_unknown(name), name=name, obj=self)
            object.__setattr__(self, name, value)  # a setting's __set__ calls configure()


SETTINGS = tuple(spec for spec in vars(Settings).values() if isinstance(spec, Setting))
"""Every declared setting, in declaration order.

:meta hide-value:
"""
_BY_NAME = {spec.name: spec for spec in SETTINGS}


def _unknown(name: str) -> str:
    close = " or ".join(map(repr, difflib.get_close_matches(name.upper(), _BY_NAME, n=3)))
    return f"Unknown setting {name!r}" + (f"; did you mean {close}?" if close else "")


def _check_all(values: Mapping[str, Any]) -> dict[str, Any]:
    for name in values:
        if name not in _BY_NAME:
            raise AttributeError(_unknown(name), name=name)
    return {name: _BY_NAME[name].check(value) for name, value in values.items()}


settings = Settings()
"""The settings singleton consulted by structlogx at use time."""
