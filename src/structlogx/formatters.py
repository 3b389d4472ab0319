"""Formatters: one JSON or logfmt line per record, and the human text of audit records.

Every formatter here returns exactly one line for every record, whatever its ``extra`` holds,
and never raises: a formatter that raises takes the record down with it (and with
``logging.raiseExceptions`` off, silently).

:class:`StructuredFormatter` is the shared base with a fixed pipeline,
``collect`` -> ``process`` -> ``serialize``; :class:`JSONFormatter` and :class:`LogfmtFormatter`
only differ in ``serialize`` (and JSON in its schema mapping). Options are named like
python-json-logger's where the concept is the same (``rename_fields``, ``static_fields``,
``json_default``, ``json_ensure_ascii``).

The collected fields, in order (the *plain* schema):

``timestamp``, ``level``, ``logger``, ``message``
    ISO 8601 UTC with milliseconds (``2026-11-23T19:05:55.123Z``), the level name, the logger
    name and the formatted message.
``action``, ``actor_*``, ``object_*``, ``scope``, ``data``
    on audit records only: ``actor_type``, ``actor_id``, ``actor_text``, ``object_type``,
    ``object_id``, ``object_text``, ``scope`` and ``data``, each when present
    (see :mod:`structlogx.records`).
bound context
    the values of :func:`structlogx.context.bind`, one key each.
extras
    every other non-standard record attribute (the ``extra`` keys; names starting with ``_``
    are skipped). An explicit extra wins over a bound value of the same name. An extra or
    context key that collides with a field above is written as ``extra.<name>``.
``exception``, ``stack_info``
    ``{"type", "message", "stack", "chain"}``, where ``chain`` lists the ``__cause__`` /
    ``__context__`` exceptions (``relation`` says which), and the stack text.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import string
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal

from structlogx import context as _context
from structlogx._imports import import_string
from structlogx.display import Registry, default_registry
from structlogx.jsonsafe import MAX_STRING, compact_encoder, qualified_name, safe_repr, to_jsonable
from structlogx.jsonsafe import json_default as _json_default
from structlogx.records import CONTEXT_ATTR, RESERVED_KEYS, describe_actor, describe_object

__all__ = [
    "ECS_VERSION",
    "SCHEMAS",
    "ActionFormatter",
    "JSONFormatter",
    "LogfmtFormatter",
    "StructuredFormatter",
    "otel_severity_number",
]

SCHEMAS: Final = ("plain", "ecs", "otel")
"""Field-name schemas of :class:`JSONFormatter`."""
ECS_VERSION: Final = "8.11.0"
"""The Elastic Common Schema version written as ``ecs.version``."""

Schema = Literal["plain", "ecs", "otel"]

#: Attributes every LogRecord has (plus those Formatter.format adds); computed once, as a
#: frozenset, because the extras scan runs for every record.
STANDARD_ATTRS: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}
_NOT_EXTRA: Final = STANDARD_ATTRS | RESERVED_KEYS | {CONTEXT_ATTR}
_CORE: Final = frozenset(
    {"timestamp", "level", "logger", "message", "exception", "stack_info"}
    | RESERVED_KEYS
    | {"actor_type", "actor_id", "actor_text", "object_type", "object_id", "object_text"}
)

# Characters str.splitlines() treats as line ends that JSON leaves unescaped.
_JSON_LINE_BREAKS: Final = str.maketrans(
    {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}
)
# Every character str.splitlines() breaks on, spelled as a visible escape.
_ALL_LINE_BREAKS: Final = str.maketrans(
    {
        "\n": "\\n",
        "\r": "\\r",
        "\x0b": "\\x0b",
        "\x0c": "\\x0c",
        "\x1c": "\\x1c",
        "\x1d": "\\x1d",
        "\x1e": "\\x1e",
        "\x85": "\\x85",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def otel_severity_number(levelno: int) -> int:
    """Map a stdlib level to OpenTelemetry's ``SeverityNumber`` (DEBUG 5, INFO 9, ... CRITICAL 21).

    Levels between two standard ones step up inside the lower one's range of four.
    """
    if levelno < logging.DEBUG:
        return 1 + max(0, min(3, levelno - 1))  # TRACE range
    bracket = min(levelno, 59) // 10  # 1 DEBUG .. 5 CRITICAL
    return 1 + 4 * bracket + min(3, levelno - 10 * bracket)


def _exception_info(
    record: logging.LogRecord, formatter: logging.Formatter
) -> dict[str, Any] | None:
    exc_info = record.exc_info
    if not exc_info or exc_info[0] is None:
        if record.exc_text:
            return {"stack": record.exc_text}
        return None
    if not record.exc_text:  # cache it the way Formatter.format does
        record.exc_text = formatter.formatException(exc_info)
    exc = exc_info[1]
    info: dict[str, Any] = {
        "type": qualified_name(exc_info[0]),
        "message": _safe_str(exc),
        "stack": record.exc_text,
    }
    chain: list[dict[str, Any]] = []
    seen = {id(exc)}
    current = exc
    while current is not None and len(chain) < 32:
        if current.__cause__ is not None:
            following, relation = current.__cause__, "cause"
        elif current.__context__ is not None and not current.__suppress_context__:
            following, relation = current.__context__, "context"
        else:
            break
        if id(following) in seen:
            break
        seen.add(id(following))
        chain.append(
            {
                "type": qualified_name(type(following)),
                "message": _safe_str(following),
                "relation": relation,
            }
        )
        current = following
    if chain:
        info["chain"] = chain
    return info


def _safe_str(value: object) -> str:
    try:
        text = str(value)
        return text if type(text) is str else str.__str__(text)
    except Exception:
        return safe_repr(value)


def _fmt_names(fmt: str | None, style: str) -> tuple[str, ...]:
    """Return the record attribute names a stdlib format string mentions, in order."""
    if not fmt:
        return ()
    if style == "{":
        names = [
            re.split(r"[.\[]", field, maxsplit=1)[0]
            for _, field, _, _ in string.Formatter().parse(fmt)
            if field
        ]
    elif style == "$":
        names = [a or b for a, b in re.findall(r"\$(?:(\w+)|\{(\w+)\})", fmt)]
    else:
        names = re.findall(r"%\((\w+)\)", fmt)
    covered = {"message", "asctime", "levelname", "name", "exc_info", "exc_text", "stack_info"}
    return tuple(dict.fromkeys(n for n in names if n not in covered))


def _string_keys(value: object, option: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{option} must be a mapping, not {type(value).__name__}")
    copied = {key: value[key] for key in value}  # key by key, so dictConfig's cfg:// resolves
    for key in copied:
        if not isinstance(key, str):
            raise TypeError(f"{option} keys must be str, got {key!r}")
    return copied


def _names(value: object, option: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"{option} must be a list of field names, not {type(value).__name__}")
    names = tuple(value)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{option} must hold str field names, got {name!r}")
    return names


class StructuredFormatter(logging.Formatter):
    """Base of the machine-readable formatters: ``collect`` -> ``process`` -> ``serialize``.

    Subclasses override :meth:`serialize` (and may override :meth:`process`, which then
    receives the fields already renamed to the schema, if any). The first four
    parameters are the stdlib :class:`logging.Formatter`'s, so ``dictConfig`` can build any
    subclass with ``"class"`` as well as with ``"()"``; record attributes named in *fmt*
    (``%(process)d``, ``{funcName}``) are added as fields, as python-json-logger does.

    Args:
        fields: output keys to keep, in this order (after renaming); ``None`` keeps all.
        exclude_fields: output keys to drop (after renaming).
        rename_fields: ``{"old": "new"}`` for output keys.
        static_fields: constant fields added to every line (after the core fields; an
            extra of the same name replaces it).
    """

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Literal["%", "{", "$"] = "%",
        validate: bool = True,
        *,
        defaults: Mapping[str, Any] | None = None,
        fields: Sequence[str] | None = None,
        exclude_fields: Sequence[str] | None = None,
        rename_fields: Mapping[str, str] | None = None,
        static_fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(fmt, datefmt, style, validate, defaults=defaults)
        self._fmt_attrs = _fmt_names(fmt, style)
        self._fields = _names(fields, "fields")
        self._exclude = frozenset(_names(exclude_fields, "exclude_fields") or ())
        self._rename = _string_keys(rename_fields, "rename_fields")
        for old, new in self._rename.items():
            if not isinstance(new, str):
                raise TypeError(f"rename_fields[{old!r}] must be a str, not {type(new).__name__}")
        self._static = _string_keys(static_fields, "static_fields")
        self._second = -1
        self._second_text = ""
        self._bound_cache: tuple[object, dict[str, Any]] = (None, {})
        # Decided once, so format() skips the steps a configuration does not use.
        self._schema_map: Callable[[dict[str, Any], logging.LogRecord], dict[str, Any]] | None
        self._schema_map = None
        self._processing = type(self).process is not StructuredFormatter.process
        self._selecting = bool(self._rename or self._fields is not None or self._exclude)

    # -- pipeline -------------------------------------------------------------------------

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line; on any internal failure, a minimal line saying so."""
        try:
            fields = self.collect(record)
            if self._schema_map is not None:
                fields = self._schema_map(fields, record)
            if self._processing:
                fields = self.process(fields, record)
            if self._selecting:
                fields = self._select(fields)
            return self.serialize(fields)
        except RecursionError:  # pragma: no cover - the stdlib handlers re-raise it too
            raise
        except Exception as exc:
            return self.serialize_error(record, exc)

    def collect(self, record: logging.LogRecord) -> dict[str, Any]:
        """Gather the plain-schema fields of *record* (see the module docs for the order)."""
        attributes = record.__dict__
        try:
            message = record.getMessage()
        except Exception:
            message = self.message(record)
        out: dict[str, Any] = {
            "timestamp": self.timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": message if type(message) is str else str.__str__(message),
        }
        for name in self._fmt_attrs:
            out[name] = attributes.get(name)
        if self._static:
            out.update(self._static)
        if attributes.get("action") is not None:
            self._add_action(out, attributes)
        bound = attributes.get(CONTEXT_ATTR)
        if bound is None:
            bound = _context.current()
        if bound:
            # The same mapping object serves every record of a bind() block: rename its
            # colliding keys once per block, not once per record.
            cached_for, renamed = self._bound_cache
            if cached_for is not bound:
                renamed = {"extra." + k if k in _CORE else k: v for k, v in bound.items()}
                self._bound_cache = (bound, renamed)
            out.update(renamed)
        if not _NOT_EXTRA.issuperset(attributes):  # cheaper than building the difference
            for key, value in attributes.items():
                if key not in _NOT_EXTRA and key[:1] != "_":
                    out["extra." + key if key in _CORE else key] = value
        if record.exc_info or record.exc_text:
            exception = _exception_info(record, self)
            if exception is not None:
                out["exception"] = exception
        if record.stack_info:
            out["stack_info"] = self.formatStack(record.stack_info)
        return out

    def process(self, fields: dict[str, Any], record: logging.LogRecord) -> dict[str, Any]:
        """Hook: adjust the collected fields before they are serialised (default: unchanged)."""
        return fields

    def serialize(self, fields: dict[str, Any]) -> str:
        """Turn the fields into the output line."""
        raise NotImplementedError

    def serialize_error(self, record: logging.LogRecord, error: BaseException) -> str:
        """Return the line written when formatting *record* failed with *error*."""
        try:
            stamp = self.timestamp(record)
        except Exception:
            stamp = "?"
        return self.serialize(
            {
                "timestamp": stamp,
                "level": _safe_str(getattr(record, "levelname", "?")),
                "logger": _safe_str(getattr(record, "name", "?")),
                "message": safe_repr(getattr(record, "msg", None)),
                "formatter_error": safe_repr(error),
            }
        )

    # -- pieces ---------------------------------------------------------------------------

    def timestamp(self, record: logging.LogRecord) -> str:
        """Return the record's time: ISO 8601 UTC with milliseconds, or ``datefmt`` if set.

        The ``YYYY-MM-DDTHH:MM:SS`` part is formatted once per second and reused.
        """
        if self.datefmt:
            return self.formatTime(record, self.datefmt)
        created = record.created
        second = int(created)
        # Round to the microsecond first, as datetime does, so 20.001 is not shown as 20.000.
        micros = round((created - second) * 1e6)
        if micros >= 1_000_000:
            second, micros = second + 1, micros - 1_000_000
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._second_text}.{micros // 1000:03d}Z"

    @staticmethod
    def message(record: logging.LogRecord) -> str:
        """Return the formatted message; a ``%`` mismatch gives a readable text, not an error."""
        try:
            message = record.getMessage()
        except Exception as exc:
            return f"{safe_repr(record.msg)} % {safe_repr(record.args)} (format error: {exc!r})"
        return message if type(message) is str else str.__str__(message)

    @staticmethod
    def _add_action(out: dict[str, Any], attributes: dict[str, Any]) -> None:
        out["action"] = attributes["action"]
        describe = describe_actor  # the same rules for the actor and the object
        user = attributes.get("user")
        if user is not None:
            kind, ident, text = describe(user)
            if kind is not None:
                out["actor_type"] = kind
            if ident is not None:
                out["actor_id"] = ident
            if text is not None:
                out["actor_text"] = text
        subject = attributes.get("object")
        if subject is not None:
            kind, ident, text = describe(subject)
            if kind is not None:
                out["object_type"] = kind
            if ident is not None:
                out["object_id"] = ident
            if text is not None:
                out["object_text"] = text
        scope = attributes.get("scope")
        if scope is not None:
            out["scope"] = scope
        data = attributes.get("data")
        if data is not None:
            out["data"] = data
        if attributes.get("visible") is False:
            out["visible"] = False

    def _select(self, fields: dict[str, Any]) -> dict[str, Any]:
        if self._rename:
            rename = self._rename
            fields = {rename.get(key, key): value for key, value in fields.items()}
        if self._fields is not None:
            fields = {key: fields[key] for key in self._fields if key in fields}
        if self._exclude:
            fields = {key: value for key, value in fields.items() if key not in self._exclude}
        return fields


class JSONFormatter(StructuredFormatter):
    """Write each record as exactly one line of JSON.

    The stdlib C encoder does the work; only when it refuses a value (a NaN, a cycle, a type
    neither it nor *json_default* knows) or the line is longer than
    :data:`~structlogx.jsonsafe.MAX_STRING` are the fields passed through
    :func:`~structlogx.jsonsafe.to_jsonable` and encoded again. Line separators that JSON
    leaves raw (U+2028, U+2029, U+0085) are escaped, and text that cannot be UTF-8 encoded
    (lone surrogates) is written with ``\\u`` escapes, so every line is one line of valid
    UTF-8 JSON.

    Args:
        schema: ``"plain"`` (the fields in the module docs), ``"ecs"`` (Elastic Common
            Schema names: ``@timestamp``, ``log.level``, ``event.action``, ``user.id``,
            ``error.*``, ...) or ``"otel"`` (OpenTelemetry log data model: ``Timestamp``,
            ``SeverityText``, ``SeverityNumber``, ``Body``, ``Attributes``, ...).
        json_default: called for objects the encoder does not know (or a dotted path to such
            a function); by default :func:`~structlogx.jsonsafe.json_default`.
        json_ensure_ascii: escape all non-ASCII characters (default: write UTF-8).

    Example ``dictConfig`` entry::

        "formatters": {"json": {"()": "structlogx.formatters.JSONFormatter", "schema": "ecs"}}
    """

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Literal["%", "{", "$"] = "%",
        validate: bool = True,
        *,
        defaults: Mapping[str, Any] | None = None,
        fields: Sequence[str] | None = None,
        exclude_fields: Sequence[str] | None = None,
        rename_fields: Mapping[str, str] | None = None,
        static_fields: Mapping[str, Any] | None = None,
        schema: Schema = "plain",
        json_default: Callable[[Any], Any] | str | None = None,
        json_ensure_ascii: bool = False,
    ) -> None:
        super().__init__(
            fmt,
            datefmt,
            style,
            validate,
            defaults=defaults,
            fields=fields,
            exclude_fields=exclude_fields,
            rename_fields=rename_fields,
            static_fields=static_fields,
        )
        if schema not in SCHEMAS:
            raise ValueError(
                f"schema must be one of {', '.join(map(repr, SCHEMAS))}, not {schema!r}"
            )
        if isinstance(json_default, str):
            json_default = import_string(json_default)
        if json_default is not None and not callable(json_default):
            raise TypeError(f"json_default must be callable, not {type(json_default).__name__}")
        self.schema: Schema = schema
        self.json_ensure_ascii = bool(json_ensure_ascii)
        self._encode = compact_encoder(
            ensure_ascii=self.json_ensure_ascii, default=json_default or _json_default
        )
        self._schema_map = {"plain": None, "ecs": _to_ecs, "otel": _to_otel}[schema]

    def serialize(self, fields: dict[str, Any]) -> str:
        """Encode *fields* as one line of JSON; never raises."""
        try:
            line = self._encode(fields)
        except Exception:
            line = ""
        if not line or len(line) > MAX_STRING:
            line = json.dumps(
                to_jsonable(fields),
                ensure_ascii=self.json_ensure_ascii,
                allow_nan=False,
                separators=(",", ":"),
            )
        if not line.isascii():
            line = line.translate(_JSON_LINE_BREAKS)
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates: escape everything instead
                line = json.dumps(json.loads(line), ensure_ascii=True, separators=(",", ":"))
        return line


def _exception_fields(out: dict[str, Any], exception: Any, names: tuple[str, str, str]) -> None:
    if isinstance(exception, dict):
        for key, name in zip(("type", "message", "stack"), names, strict=True):
            if key in exception:
                out[name] = exception[key]


def _split_core(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    core = {key: fields[key] for key in fields.keys() & _CORE}
    rest = {key: value for key, value in fields.items() if key not in _CORE}
    return core, rest


# The audit fields under their ECS and OpenTelemetry names: both schemas name the actor
# ``user.*``; the rest has no standard name and goes under ``structlogx.*``.
_AUDIT_NAMES: Final = (
    ("actor_id", "user.id"),
    ("actor_text", "user.name"),
    ("actor_type", "structlogx.actor.type"),
    ("object_type", "structlogx.object.type"),
    ("object_id", "structlogx.object.id"),
    ("object_text", "structlogx.object.text"),
    ("scope", "structlogx.scope"),
    ("data", "structlogx.data"),
)


def _to_ecs(fields: dict[str, Any], record: logging.LogRecord) -> dict[str, Any]:
    core, rest = _split_core(fields)
    out: dict[str, Any] = {
        "@timestamp": core["timestamp"],
        "log.level": str(core["level"]).lower(),
        "message": core["message"],
        "ecs.version": ECS_VERSION,
        "log.logger": core["logger"],
        "log.origin.file.name": record.filename,
        "log.origin.file.line": record.lineno,
        "log.origin.function": record.funcName,
        "process.pid": record.process,
        "process.thread.id": record.thread,
        "process.thread.name": record.threadName,
    }
    if "action" in core:
        out["event.action"] = core["action"]
    for plain, ecs in _AUDIT_NAMES:
        if plain in core:
            out[ecs] = core[plain]
    exception = core.get("exception")
    _exception_fields(out, exception, ("error.type", "error.message", "error.stack_trace"))
    if isinstance(exception, dict) and "chain" in exception:
        out["structlogx.error.chain"] = exception["chain"]
    if "stack_info" in core:
        out["log.origin.stack"] = core["stack_info"]
    out.update(rest)
    return out


def _to_otel(fields: dict[str, Any], record: logging.LogRecord) -> dict[str, Any]:
    core, rest = _split_core(fields)
    attributes: dict[str, Any] = {
        "code.file.path": record.pathname,
        "code.function.name": record.funcName,
        "code.line.number": record.lineno,
        "thread.id": record.thread,
        "thread.name": record.threadName,
    }
    for plain, otel in _AUDIT_NAMES:
        if plain in core:
            attributes[otel] = core[plain]
    exception = core.get("exception")
    _exception_fields(
        attributes, exception, ("exception.type", "exception.message", "exception.stacktrace")
    )
    if isinstance(exception, dict) and "chain" in exception:
        attributes["structlogx.exception.chain"] = exception["chain"]
    if "stack_info" in core:
        attributes["structlogx.stack_info"] = core["stack_info"]
    attributes.update(rest)
    out: dict[str, Any] = {
        "Timestamp": str(int(record.created * 1e9)),
        "SeverityText": core["level"],
        "SeverityNumber": otel_severity_number(record.levelno),
        "Body": core["message"],
        "InstrumentationScope": {"Name": core["logger"]},
    }
    if "action" in core:
        out["EventName"] = core["action"]
    out["Attributes"] = attributes
    return out


_BARE: Final = re.compile(r'[^\s="\\]+\Z')
_KEY_BAD: Final = re.compile(r'[\s="\\]')


class LogfmtFormatter(StructuredFormatter):
    """Write each record as one line of ``key=value`` pairs (logfmt).

    Values that are empty or hold spaces, ``=``, quotes, backslashes or anything
    non-printable are double-quoted with JSON string escapes, so a line never breaks and a
    logfmt parser gives the text back. Nested mappings are flattened into dotted keys
    (``data.amount=12.50``); lists are written as JSON text. ``None`` is ``null``, booleans are
    ``true``/``false``. Characters a key may not hold become ``_``.
    """

    def serialize(self, fields: dict[str, Any]) -> str:
        """Encode *fields* as one logfmt line; never raises."""
        parts: list[str] = []
        for key, value in fields.items():
            self._pair(parts, _logfmt_key(key), value, 0)
        return " ".join(parts)

    def _pair(self, parts: list[str], key: str, value: Any, depth: int) -> None:
        cls = type(value)
        if cls is str:
            parts.append(f"{key}={_logfmt_value(value)}")
        elif value is None:
            parts.append(f"{key}=null")
        elif cls is bool:
            parts.append(f"{key}={'true' if value else 'false'}")
        elif cls is int or cls is float:
            parts.append(f"{key}={_logfmt_value(str(to_jsonable(value)))}")
        elif isinstance(value, Mapping) and depth < 8:
            if not value:
                parts.append(f"{key}={{}}")
            for sub_key, sub_value in value.items():
                self._pair(parts, f"{key}.{_logfmt_key(sub_key)}", sub_value, depth + 1)
        else:
            converted = to_jsonable(value)
            if isinstance(converted, (dict, list)):
                text = json.dumps(converted, ensure_ascii=False, separators=(",", ":"))
                parts.append(f"{key}={_logfmt_value(text)}")
            else:
                self._pair(parts, key, converted, depth + 1)


def _logfmt_key(key: object) -> str:
    text = key if type(key) is str else _safe_str(key)
    text = _KEY_BAD.sub("_", text[:256])
    if not text.isprintable():
        text = "".join(char if char.isprintable() else "_" for char in text)
    return text or "_"


def _logfmt_value(text: str) -> str:
    if len(text) > MAX_STRING:
        text = to_jsonable(text)
    if text and _BARE.match(text) and text.isprintable():
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    if not quoted.isascii():
        quoted = quoted.translate(_JSON_LINE_BREAKS)
        try:
            quoted.encode("utf-8")
        except UnicodeEncodeError:
            quoted = json.dumps(text, ensure_ascii=True)
    return quoted


class ActionFormatter(logging.Formatter):
    """Write audit records as their human text, and other records with the normal format.

    For a record with an ``action``, the message becomes the text :mod:`structlogx.display`
    gives for it, and the format string may also use ``%(display)s``, ``%(action)s``,
    ``%(actor_text)s``, ``%(object_text)s`` and ``%(scope)s`` (empty on other records).

    Args:
        registry: the display registry (default: the module-level one).
        single_line: escape line breaks (``\\n`` -> ``\\\\n``), tracebacks included, so one
            record is one line and log text cannot forge lines. ``False`` keeps them.

    Example ``dictConfig`` entry::

        "formatters": {"audit_text": {
            "()": "structlogx.formatters.ActionFormatter",
            "format": "%(asctime)s %(actor_text)s: %(message)s"}}
    """

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Literal["%", "{", "$"] = "%",
        validate: bool = True,
        *,
        defaults: Mapping[str, Any] | None = None,
        registry: Registry | str | None = None,
        single_line: bool = True,
    ) -> None:
        merged = {"display": "", "action": "", "actor_text": "", "object_text": "", "scope": ""}
        merged.update(defaults or {})
        super().__init__(fmt, datefmt, style, validate, defaults=merged)
        if isinstance(registry, str):
            registry = import_string(registry)
        if registry is not None and not isinstance(registry, Registry):
            raise TypeError(f"registry must be a display Registry, not {type(registry).__name__}")
        self.registry: Registry = registry or default_registry
        self.single_line = bool(single_line)

    def format(self, record: logging.LogRecord) -> str:
        """Return the record's line (see the class docs); never raises."""
        try:
            if record.__dict__.get("action") is not None:
                text = self.registry.display(record)
                shadow = copy.copy(record)
                shadow.msg, shadow.args = text, None
                shadow.display = text
                shadow.actor_text = describe_actor(record.__dict__.get("user")).text or ""
                shadow.object_text = describe_object(record.__dict__.get("object")).text or ""
                if record.__dict__.get("scope") is None:
                    shadow.scope = ""
                result = super().format(shadow)
                record.exc_text = shadow.exc_text
            else:
                result = super().format(record)
        except RecursionError:  # pragma: no cover
            raise
        except Exception as exc:
            level = _safe_str(getattr(record, "levelname", "?"))
            name = _safe_str(getattr(record, "name", "?"))
            message = safe_repr(getattr(record, "msg", None))
            result = f"{level} {name}: {message} (formatter error: {safe_repr(exc)})"
        return result.translate(_ALL_LINE_BREAKS) if self.single_line else result
