"""The record conventions: what turns a plain log record into a business audit record.

A record is an *audit record* when it carries an ``action`` in its ``extra``. Six ``extra``
keys are reserved for audit records (:data:`RESERVED_KEYS`):

``action``
    the action type: dotted, lower-case, globally unique and prefixed with the owning
    package, e.g. ``shop.order.canceled`` (see :func:`action_error` for the exact rule).
``user``
    the actor, any object: described by :func:`describe_actor`.
``object``
    the subject of the action, any object: described by :func:`describe_object`.
``data``
    a mapping of details; made JSON-safe with :func:`~structlogx.jsonsafe.to_jsonable`.
``scope``
    a tenant or event key that groups entries (pretix's event), as text.
``visible``
    ``False`` keeps the entry out of default queries (pretix's invisible log entries).

:func:`entry_from_record` turns such a record into an :class:`AuditEntry`, the shape every
audit store persists. :func:`log_action` and :class:`LoggedObject` are the pretix-style ways of
writing one without spelling out ``extra``.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import logging
import re
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, Final, NamedTuple

from structlogx import context as _context
from structlogx.jsonsafe import qualified_name, safe_repr, to_jsonable

__all__ = [
    "ACTION_MAX_LENGTH",
    "CONTEXT_ATTR",
    "RESERVED_KEYS",
    "AuditEntry",
    "Described",
    "InvalidActionError",
    "LoggedObject",
    "action_error",
    "changed_data",
    "describe_actor",
    "describe_object",
    "entry_from_record",
    "is_audit_record",
    "log_action",
    "validate_action",
]

RESERVED_KEYS: Final = frozenset({"action", "user", "object", "data", "scope", "visible"})
"""The ``extra`` keys with a meaning of their own on audit records."""

CONTEXT_ATTR: Final = "structlogx_context"
"""Record attribute where :class:`~structlogx.filters.ContextFilter` stores the bound context."""

ACTION_MAX_LENGTH: Final = 255
"""Longest accepted action name, in characters (it is indexed in every store)."""

_SEGMENT: Final = re.compile(r"[a-z][a-z0-9_]*\Z")
_TEXT_LIMIT: Final = 200


class InvalidActionError(ValueError):
    """Raised when an action name breaks the naming rule; the message says which part."""


def action_error(action: object) -> str | None:
    """Return why *action* is not a valid action name, or ``None`` when it is.

    The rule: a ``str`` of at most :data:`ACTION_MAX_LENGTH` characters made of two or more
    dot-separated segments, each starting with a lower-case ASCII letter followed by lower-case
    letters, digits or underscores (``shop.order.canceled``, ``paypal.payment.rejected``).
    """
    if not isinstance(action, str):
        return f"an action name must be a str, not {type(action).__name__}"
    if not action:
        return "an action name must not be empty"
    if len(action) > ACTION_MAX_LENGTH:
        return f"an action name must be at most {ACTION_MAX_LENGTH} characters, not {len(action)}"
    segments = action.split(".")
    if len(segments) < 2:
        return "an action name must be dotted, with a package prefix (e.g. 'shop.order.canceled')"
    for segment in segments:
        if not _SEGMENT.match(segment):
            return (
                f"segment {segment!r} must start with a lower-case letter and hold only "
                "lower-case letters, digits and underscores"
            )
    return None


_VALID_ACTIONS: dict[str, None] = {}  # names seen valid: an application has a few hundred


def validate_action(action: object) -> str:
    """Return *action* unchanged, or raise :class:`InvalidActionError` naming the broken rule."""
    if type(action) is str and action in _VALID_ACTIONS:
        return action
    problem = action_error(action)
    if problem is not None:
        raise InvalidActionError(f"invalid action {safe_repr(action, 80)}: {problem}")
    assert isinstance(action, str)
    if type(action) is str and len(_VALID_ACTIONS) < 4096:  # bounded: names may be generated
        _VALID_ACTIONS[action] = None
    return action


def is_audit_record(record: logging.LogRecord) -> bool:
    """Return whether *record* carries an ``action`` (valid or not)."""
    return record.__dict__.get("action") is not None


class Described(NamedTuple):
    """An actor or object reduced to what a store keeps: type label, id and display text."""

    type: str | None
    id: str | None
    text: str | None


_NOTHING: Final = Described(None, None, None)
# Described(...) through tuple.__new__: the NamedTuple's own __new__ is a Python function
# with keyword handling, and objects are described for every audit record, twice.
_new_described: Final = tuple.__new__


def _text(value: object) -> str:
    try:
        text = value if type(value) is str else str(value)
        if type(text) is not str:
            text = str.__str__(text)
    except Exception:
        text = safe_repr(value)
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


# Per-class answers, so describing the same kinds of objects over and over costs two dict
# look-ups: a type label, or one of the markers below for values handled otherwise.
_PLAIN: Final = "\0plain"
_MAPPING: Final = "\0mapping"
_AS_IS: Final = "\0described"
_LABELS: dict[type, str] = {}
_LABELS_MAX: Final = 4096


def _classify(cls: type) -> str:
    if issubclass(cls, Described):
        return _AS_IS
    if issubclass(cls, (str, int)) and not issubclass(cls, bool):
        return _PLAIN
    if issubclass(cls, Mapping):
        return _MAPPING
    label = getattr(getattr(cls, "_meta", None), "label", None)  # Django: "app_label.Model"
    return label if isinstance(label, str) else qualified_name(cls)


def _ident(value: object) -> str | None:
    for attribute in ("pk", "id"):
        try:  # a default: a missing attribute then raises nothing (no exception object)
            ident = getattr(value, attribute, None)
        except Exception:  # a property that fails
            continue
        if type(ident) is int:  # the common case: an integer primary key
            return str(ident)
        if ident is None or callable(ident):
            continue
        return _text(ident)
    return None


def _describe(value: object) -> Described:
    if value is None:
        return _NOTHING
    cls = type(value)
    label = _LABELS.get(cls)
    if label is None:
        label = _classify(cls)
        if len(_LABELS) < _LABELS_MAX:
            _LABELS[cls] = label
    if label is _AS_IS:
        return value  # type: ignore[return-value]
    if label is _PLAIN:
        text = _text(value)
        return Described(None, text, text)
    if label is _MAPPING:
        # A pre-described value: {"type": ..., "id": ..., "text": ...}
        get = value.get  # type: ignore[attr-defined]
        kind, ident, shown = get("type"), get("id"), get("text")
        return Described(
            None if kind is None else _text(kind),
            None if ident is None else _text(ident),
            None if shown is None else _text(shown),
        )
    return _new_described(Described, (label, _ident(value), _text(value)))


def describe_actor(user: object) -> Described:
    """Describe who performed an action.

    ``None`` gives an all-``None`` description; a ``str`` or ``int`` is taken as the actor's id
    and text (``"alice"``, ``42``); a mapping with ``type``/``id``/``text`` keys is taken as
    given; any other object is described by its type label (Django's ``app.Model`` when it
    has ``_meta.label``), its ``pk`` or ``id``, and ``str(user)``. Never raises.
    """
    try:
        return _describe(user)
    except Exception:
        return Described(qualified_name(type(user)), None, safe_repr(user, _TEXT_LIMIT))


def describe_object(obj: object) -> Described:
    """Describe the subject of an action; the same rules as :func:`describe_actor`."""
    return describe_actor(obj)


@dataclasses.dataclass(slots=True)
class AuditEntry:
    """One persisted audit record (the fields every store keeps).

    ``id`` is assigned by the store (increasing); ``prev_hash`` and ``hash`` link the entry
    into its store's hash chain, ``seed`` salts its personal values and ``shred`` keeps the
    digests of the values shredded (see :mod:`structlogx.audit.chain`). ``data`` and
    ``context`` are JSON-safe mappings.
    """

    timestamp: _dt.datetime
    action: str
    level: str = "INFO"
    logger: str = ""
    message: str = ""
    actor_type: str | None = None
    actor_id: str | None = None
    actor_text: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    object_text: str | None = None
    scope: str | None = None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    context: dict[str, Any] = dataclasses.field(default_factory=dict)
    visible: bool = True
    shredded: bool = False
    id: int | None = None
    prev_hash: str | None = None
    hash: str | None = None
    seed: str | None = None
    shred: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as a JSON-safe dict (timestamp in ISO 8601)."""
        result = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        result["timestamp"] = self.timestamp.isoformat()
        result["data"], result["context"], result["shred"] = copy.deepcopy(
            (self.data, self.context, self.shred)
        )
        return result

    def display(self) -> str:
        """Return the human text of this entry, from :mod:`~structlogx.display`."""
        from structlogx.display import display  # display builds on records: import late

        return display(self)


def _as_data(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    converted = to_jsonable(value)
    return converted if isinstance(converted, dict) else {"value": converted}


def entry_from_record(record: logging.LogRecord) -> AuditEntry:
    """Build the :class:`AuditEntry` for an audit record.

    Call it in the thread that logged (a handler's ``emit``): the bound context is read from
    the record when :class:`~structlogx.filters.ContextFilter` put it there, else from the
    current context. ``data`` that is not a mapping is kept as ``{"value": ...}``.

    Raises:
        InvalidActionError: the record has no action, or its action breaks the naming rule.
    """
    # Written for speed (it runs in the logging thread for every audit record): names bound
    # once, no call for what is absent, the entry's fields by position (keywords cost half
    # a microsecond more; the order is tested).
    get = record.__dict__.get
    action = get("action")
    if type(action) is not str or action not in _VALID_ACTIONS:
        action = validate_action(action)
    user, subject = get("user"), get("object")
    actor = _NOTHING if user is None else describe_actor(user)
    thing = _NOTHING if subject is None else describe_object(subject)
    scope, data, bound = get("scope"), get("data"), get(CONTEXT_ATTR)
    if bound is None:
        bound = _current_context()
    try:
        message = record.getMessage()
    except Exception:
        message = f"{safe_repr(record.msg)} % {safe_repr(record.args)}"
    return AuditEntry(
        _from_timestamp(record.created, _UTC),  # timestamp
        action,
        record.levelname,  # level
        record.name,  # logger
        message,
        actor[0],  # actor_type
        actor[1],  # actor_id
        actor[2],  # actor_text
        thing[0],  # object_type
        thing[1],  # object_id
        thing[2],  # object_text
        None if scope is None else _text(scope),  # scope
        {} if data is None else _as_data(data),  # data
        _as_data(bound) if bound else {},  # context
        get("visible") is not False,  # visible
    )


_UTC: Final = _dt.timezone.utc
_from_timestamp: Final = _dt.datetime.fromtimestamp
_current_context: Final = _context.current


def log_action(
    logger: logging.Logger | logging.LoggerAdapter[Any] | str,
    action: str,
    *,
    user: object = None,
    object: object = None,
    data: Mapping[str, Any] | None = None,
    scope: object = None,
    level: int = logging.INFO,
    message: str | None = None,
    visible: bool = True,
    stacklevel: int = 1,
) -> None:
    """Log an audit record: ``logger.log(level, message, extra={"action": action, ...})``.

    Args:
        logger: a logger, an adapter, or a logger name.
        action: the action type, e.g. ``"shop.order.canceled"``. An invalid name is not
            rejected here (logging never raises): technical outputs still get the record and
            audit handlers report it through ``handleError``.
        message: the record's message; by default the action name, which
            :class:`~structlogx.formatters.ActionFormatter` replaces with the display text.
        visible: ``False`` hides the entry from default audit queries.
        stacklevel: as in :meth:`logging.Logger.log`, counted from the caller of this function.
    """
    target = logging.getLogger(logger) if isinstance(logger, str) else logger
    extra: dict[str, Any] = {"action": action}
    for key, value in (("user", user), ("object", object), ("data", data), ("scope", scope)):
        if value is not None:
            extra[key] = value
    if not visible:
        extra["visible"] = False
    text = action if message is None else message
    kwargs: MutableMapping[str, Any] = {"extra": extra}
    # Unwrap adapters ourselves: the stdlib LoggerAdapter.process replaces the caller's
    # extra with the adapter's own, which would drop the action. Ours win on a clash.
    while isinstance(target, logging.LoggerAdapter):
        text, kwargs = target.process(text, kwargs)
        kwargs["extra"] = {**(kwargs.get("extra") or {}), **extra}
        target = target.logger
    kwargs.pop("stacklevel", None)
    target.log(level, text, stacklevel=stacklevel + 1, **kwargs)


class LoggedObject:
    """Mixin that gives any class pretix's ``obj.log_action(action, user=..., data=...)``.

    Records go to ``logging.getLogger(type(self).__module__)`` with ``object=self``, so the
    module's own logger configuration decides where they end up. Override
    :meth:`get_log_scope` to stamp every entry of an object with its tenant or event.
    """

    __slots__ = ()

    def get_log_scope(self) -> object:
        """Return the scope for this object's entries (``None``: no scope)."""
        return None

    def log_action(
        self,
        action: str,
        user: object = None,
        data: Mapping[str, Any] | None = None,
        *,
        level: int = logging.INFO,
        message: str | None = None,
        visible: bool = True,
    ) -> None:
        """Log *action* about this object (see :func:`log_action`)."""
        log_action(
            logging.getLogger(type(self).__module__),
            action,
            user=user,
            object=self,
            data=data,
            scope=self.get_log_scope(),
            level=level,
            message=message,
            visible=visible,
            stacklevel=2,
        )

    def all_logentries(self, **filters: Any) -> list[AuditEntry]:
        """Return this object's audit entries, newest first, from the default store.

        The default store is the one of the most recently configured
        :class:`~structlogx.handlers.AuditHandler`, or the one set with
        :func:`structlogx.audit.set_default_store`. *filters* are passed to the store's
        ``query`` (``action``, ``since``, ``limit``, ``visible``, ...).
        """
        from structlogx.audit import get_default_store  # the audit engine builds on records

        return get_default_store().query(object=self, **filters)


def _is_file(value: object) -> bool:
    try:
        return hasattr(value, "read") and hasattr(value, "name")
    except Exception:
        return False


def changed_data(source: object, fields: Iterable[str]) -> dict[str, Any]:
    """Collect the values of changed *fields* for an action's ``data``, as pretix does for forms.

    *source* is a mapping (a form's ``cleaned_data``) or an object (the saved model); a field
    missing from it gives ``None``. Uploaded files become their ``name``, never their content.
    """
    result: dict[str, Any] = {}
    for name in fields:
        if isinstance(source, Mapping):
            value = source.get(name)
        else:
            try:
                value = getattr(source, name, None)
            except Exception:
                value = None
        result[name] = getattr(value, "name", None) if _is_file(value) else value
    return result
