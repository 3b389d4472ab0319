"""Read what an error report needs from any web request, without trusting the request.

An error report describes the request that failed: client address, method, URL, headers,
GET and POST parameters, cookies and user. Every framework keeps these in its own shape, so
:func:`request_info` reads them all into one :class:`RequestInfo`:

=========================  ===============================================================
request                    recognised by
=========================  ===============================================================
WSGI environ               any mapping that is not an ASGI scope (``REQUEST_METHOD``, ...)
Django ``HttpRequest``     a ``META`` attribute (and ``GET``, ``POST``, ``COOKIES``, ``user``)
Starlette ``Request``      a ``scope`` attribute holding a mapping
Werkzeug/Flask request     an ``environ`` attribute holding a mapping (``args``, ``form``,
                           ``cookies``)
ASGI scope                 a mapping whose ``type`` is ``"http"`` or ``"websocket"``
=========================  ===============================================================

The request that caused an error is often the strangest one the server ever saw, and the
report must still go out. So reading never raises: a missing key, a property that raises,
bytes where text belongs, a non-ASCII or percent-encoded path or a forged ``Host`` header
each leave their field ``None`` (or empty) and add a line to :attr:`RequestInfo.notes` that
says what could not be read. Nothing is redacted here; :mod:`structlogx.mail.report` does
that before anything is shown.

Reading never consumes the request body: POST data comes from Django's ``POST`` (which
Django's own error reporter reads too), from a Werkzeug ``form`` or Starlette form only when
the application already parsed it, and never from ``wsgi.input`` or an ASGI ``receive``.

The client address is ``REMOTE_ADDR`` (ASGI: ``scope["client"]``), never
``X-Forwarded-For``: that header is written by the client unless a proxy you trust rewrote
it, so anyone could claim to be ``127.0.0.1`` and be called an internal IP. Behind reverse
proxies, either let a proxy middleware rewrite ``REMOTE_ADDR`` (Werkzeug's ``ProxyFix``,
uvicorn's ``--forwarded-allow-ips``) or pass ``trusted_proxies=N`` to read the address that
the N-th proxy from the right saw.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, cast

from structlogx.conf import settings
from structlogx.jsonsafe import qualified_name, safe_repr

__all__ = [
    "ALL_PARAMETERS",
    "MAX_ITEMS",
    "MAX_VALUE",
    "SENSITIVE_POST_KEY",
    "RequestInfo",
    "is_internal",
    "request_info",
]

ALL_PARAMETERS: Final = "__ALL__"
"""The name that, among :attr:`RequestInfo.sensitive_post_parameters`, makes every POST value
sensitive (Django's marker)."""
SENSITIVE_POST_KEY: Final = "structlogx.sensitive_post_parameters"
"""The environ/scope key under which a request's sensitive POST names are kept.

WSGI and ASGI allow extension keys in the environ and the scope, so a plain-dict request can
be marked the way Django marks ``request.sensitive_post_parameters``; see
:func:`structlogx.mail.report.mark_sensitive_post_parameters`.
"""
MAX_ITEMS: Final = 1000
"""At most this many headers, parameters or cookies are read per mapping (a note tells)."""
MAX_VALUE: Final = 4096
"""Each header, parameter or cookie value is cut to this many characters."""

Params = dict[str, "str | list[str]"]
_MISSING: Any = object()
# Django's host_validation_re: a name or an IPv6 literal, and an optional port.
_HOST: Final = re.compile(r"([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(:[0-9]+)?", re.IGNORECASE)
_SCHEMES: Final = frozenset({"http", "https", "ws", "wss"})
_PATH_SAFE: Final = "/:@&+$,-_.!~*'()"  # Django's escape_uri_path
_QUERY_SAFE: Final = "=&;%+/?:@,$!~*'()-._"  # existing %-escapes are kept
_MAX_QUERY: Final = 64 * 1024


@dataclasses.dataclass(frozen=True)
class RequestInfo:
    """What an error report shows about one request, read by :func:`request_info`.

    The values are raw (not redacted) text; a field that could not be read is ``None`` or
    empty, and :attr:`notes` says why.

    Attributes:
        client_address: ``REMOTE_ADDR`` or the ASGI client host (see the module docs).
        method: the HTTP method, upper case.
        url: the absolute URL, percent-encoded (ASCII); relative when no valid host is known.
        path: the decoded path (``SCRIPT_NAME`` + ``PATH_INFO``), non-ASCII kept as text.
        headers: header name (``Content-Type`` spelling) to value.
        get: query parameters; a parameter given once maps to its ``str`` value, a repeated
            one to the ``list`` of its values.
        post: form parameters, the same way; empty when the body was not (or cannot be) read.
        cookies: cookie name to value.
        user: the user's text (``str(request.user)``, ``REMOTE_USER`` or the ASGI
            ``scope["user"]``), or ``None``.
        kind: ``"wsgi"``, ``"django"``, ``"werkzeug"``, ``"asgi"`` or ``"starlette"``.
        notes: what could not be read or was cut, one sentence each.
        sensitive_post_parameters: POST names the application marked sensitive on this
            request; :data:`ALL_PARAMETERS` among them means all.
    """

    client_address: str | None = None
    method: str | None = None
    url: str | None = None
    path: str | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    get: Params = dataclasses.field(default_factory=dict)
    post: Params = dataclasses.field(default_factory=dict)
    cookies: dict[str, str] = dataclasses.field(default_factory=dict)
    user: str | None = None
    kind: str = "wsgi"
    notes: tuple[str, ...] = ()
    sensitive_post_parameters: frozenset[str] = frozenset()


def request_info(request: object, *, trusted_proxies: int = 0) -> RequestInfo | None:
    """Read *request* into a :class:`RequestInfo`; never raises.

    Args:
        request: a WSGI environ, an ASGI scope, or a Django, Werkzeug/Flask or Starlette
            request (see the module docs for how each is recognised).
        trusted_proxies: how many reverse proxies in front of the application append to
            ``X-Forwarded-For``; the client address is then the entry that many places from
            the right. ``0`` (the default) ignores the header, which is the only safe choice
            when the application can be reached without a proxy.

    Returns:
        ``None`` when *request* is ``None`` or not a request of a known kind.
    """
    reader = _Reader()
    try:
        kind = _kind(request)
        if kind is None:
            return None
        info = _READERS[kind](reader, request)
        if trusted_proxies > 0:
            forwarded = _forwarded_for(info["headers"], trusted_proxies)
            if forwarded is not None:
                info["client_address"] = forwarded
        info["sensitive_post_parameters"] = _marks(request, info.pop("_store", None))
        return RequestInfo(kind=kind, notes=tuple(reader.notes), **info)
    except Exception as exc:  # a bug here must not cost the report
        reader.note(f"request could not be read ({_describe(exc)})")
        return RequestInfo(kind="unknown", notes=tuple(reader.notes))


def is_internal(info: RequestInfo | None, internal_ips: Iterable[str] | None = None) -> bool:
    """Return whether the client address of *info* is one of *internal_ips*; never raises.

    Args:
        info: what :func:`request_info` returned (``None``: not internal).
        internal_ips: addresses such as ``"127.0.0.1"`` or ``"::1"``, compared as addresses
            (``"::ffff:127.0.0.1"`` matches ``"127.0.0.1"``), and networks such as
            ``"10.0.0.0/8"``; entries that are neither are compared as text. Defaults to
            ``settings.INTERNAL_IPS``.
    """
    try:
        if info is None or not info.client_address:
            return False
        entries = settings.INTERNAL_IPS if internal_ips is None else list(internal_ips)
        client = info.client_address.strip()
        if client in entries:
            return True
        address = _address(client)
        if address is None:
            return False
        for entry in entries:
            if not isinstance(entry, str):
                continue
            if "/" in entry:
                try:
                    if address in ipaddress.ip_network(entry.strip(), strict=False):
                        return True
                except ValueError:
                    continue
            elif _address(entry) == address:
                return True
        return False
    except Exception:
        return False


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# -- recognising and reading ---------------------------------------------------------------


class _Reader:
    """Collect the notes of one read; every risky access goes through it."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        if len(self.notes) < 50:
            self.notes.append(text)

    def attr(self, obj: object, name: str, what: str) -> Any:
        try:
            return getattr(obj, name, _MISSING)
        except Exception as exc:
            self.note(f"{what} could not be read ({_describe(exc)})")
            return _MISSING

    def call(self, func: Callable[[], Any], what: str) -> Any:
        try:
            return func()
        except Exception as exc:
            self.note(f"{what} could not be read ({_describe(exc)})")
            return _MISSING


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:
        text = "<unprintable>"
    return f"{qualified_name(type(exc))}: {text[:200]}" if text else qualified_name(type(exc))


def _absent(value: object) -> bool:
    return value is _MISSING or value is None


def _get(obj: object, name: str) -> Any:
    try:
        return getattr(obj, name, _MISSING)
    except Exception:
        return _MISSING


def _kind(request: object) -> str | None:
    if request is None:
        return None
    if isinstance(request, Mapping):
        try:
            scope_type = request.get("type")
        except Exception:
            scope_type = None
        is_scope = isinstance(scope_type, str) and scope_type in ("http", "websocket")
        return "asgi" if is_scope else "wsgi"
    if _get(request, "META") is not _MISSING:
        return "django"
    if isinstance(_get(request, "scope"), Mapping):
        return "starlette"
    if isinstance(_get(request, "environ"), Mapping):
        return "werkzeug"
    return None


def _text(value: object, limit: int = MAX_VALUE) -> str:
    """Return *value* as display text, cut to *limit*: bytes decoded, others repr'd."""
    if isinstance(value, str):
        text = value if type(value) is str else str.__str__(value)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text = bytes(value[: limit * 4]).decode("utf-8", "backslashreplace")
    elif value is None or type(value) in (int, float, bool):
        text = "" if value is None else repr(value)
    else:
        text = safe_repr(value, limit)
    if len(text) > limit:
        return f"{text[:limit]}...[cut {len(text) - limit} chars]"
    return text


def _wsgi_text(value: object) -> str:
    """Return a WSGI "bytes as latin-1" string as the UTF-8 text it stands for, if it is."""
    text = _text(value)
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text  # real text already, or not UTF-8: shown as it is


def _params(reader: _Reader, source: object, what: str) -> Params:
    """Read a multi-value mapping (Django, Werkzeug, Starlette), a dict or pairs."""
    if source is _MISSING or source is None:
        return {}
    result: Params = {}
    try:
        if isinstance(source, (str, bytes)):
            pairs: Iterable[Any] = _parse_query(reader, source, what)
        elif callable(lists := _get(source, "lists")):
            pairs = ((key, values) for key, values in lists())
        elif callable(multi := _get(source, "multi_items")):
            pairs = multi()
        elif isinstance(source, Mapping):
            pairs = source.items()
        else:
            pairs = source  # type: ignore[assignment]
        for count, pair in enumerate(pairs, 1):
            if count > MAX_ITEMS:
                reader.note(f"{what}: only the first {MAX_ITEMS} parameters are shown")
                break
            key, value = pair
            name = _text(key, 200)
            if isinstance(value, (list, tuple)):
                values = [_text(item) for item in value[:MAX_ITEMS]]
            else:
                values = [_text(value)]
            old = result.get(name)
            if old is not None:
                values = (old if isinstance(old, list) else [old]) + values
            result[name] = values[0] if len(values) == 1 else values
    except Exception as exc:
        reader.note(f"{what} could not be read completely ({_describe(exc)})")
    return result


def _parse_query(reader: _Reader, query: object, what: str) -> list[tuple[str, str]]:
    text = query.decode("latin-1") if isinstance(query, bytes) else _text(query, _MAX_QUERY)
    if len(text) > _MAX_QUERY:
        reader.note(f"{what}: the query string is cut to {_MAX_QUERY} characters")
        text = text[:_MAX_QUERY]
    return urllib.parse.parse_qsl(text, keep_blank_values=True, errors="replace")


def _cookies(reader: _Reader, header: object) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently (``SimpleCookie`` drops a whole bad header)."""
    cookies: dict[str, str] = {}
    if not header:
        return cookies
    for count, chunk in enumerate(_text(header, _MAX_QUERY).split(";")):
        if count >= MAX_ITEMS:
            reader.note(f"cookies: only the first {MAX_ITEMS} are shown")
            break
        name, equals, value = chunk.partition("=")
        name = name.strip()
        if not equals:
            name, value = "", name
        if name or value:
            cookies[name[:200]] = value.strip()
    return cookies


def _header_name(raw: str) -> str:
    return "-".join(part.capitalize() for part in raw.replace("_", "-").split("-"))


def _environ_headers(reader: _Reader, environ: Mapping[Any, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    try:
        for count, (key, value) in enumerate(environ.items()):
            if count >= 10 * MAX_ITEMS:
                reader.note("headers: the environ is too large; the rest is not shown")
                break
            name = _text(key, 200)
            if name.startswith("HTTP_"):
                headers[_header_name(name[5:])] = _wsgi_text(value)
            elif name in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                headers[_header_name(name)] = _wsgi_text(value)
    except Exception as exc:
        reader.note(f"headers could not be read completely ({_describe(exc)})")
    return headers


def _valid_host(reader: _Reader, host: object) -> str | None:
    if _absent(host):
        return None
    text = _text(host, 300)
    if not text:
        return None
    if _HOST.fullmatch(text) is None:
        reader.note(f"the Host header is not a valid host name and is not used: {text[:100]!r}")
        return None
    return text.lower()


def _url(scheme: str, host: str | None, path: str | None, query: str) -> str | None:
    if path is None and host is None:
        return None
    quoted = urllib.parse.quote((path or "/").encode("utf-8", "surrogatepass"), safe=_PATH_SAFE)
    query = urllib.parse.quote(query.encode("utf-8", "surrogatepass"), safe=_QUERY_SAFE)
    tail = f"{quoted}?{query}" if query else quoted
    return f"{scheme}://{host}{tail}" if host else tail


def _scheme(reader: _Reader, value: object, default: str) -> str:
    text = default if _absent(value) else _text(value, 20).lower() or default
    if text not in _SCHEMES:
        reader.note(f"unknown URL scheme {text!r}; {default!r} is shown")
        return default
    return text


def _server_host(name: object, port: object, scheme: str) -> str | None:
    if _absent(name):
        return None
    host, port_text = _text(name, 300), "" if _absent(port) else _text(port, 10)
    if _HOST.fullmatch(host) is None:
        return None
    default = "443" if scheme in ("https", "wss") else "80"
    return f"{host}:{port_text}" if port_text.isdigit() and port_text != default else host


def _environ_get(reader: _Reader, environ: Mapping[Any, Any], key: str) -> Any:
    try:
        return environ.get(key, _MISSING)
    except Exception as exc:
        reader.note(f"{key} could not be read ({_describe(exc)})")
        return _MISSING


def _read_environ(reader: _Reader, environ: Mapping[Any, Any]) -> dict[str, Any]:
    """Read a WSGI environ (or Django's ``META``): everything but GET/POST objects."""

    def get(key: str) -> Any:
        return _environ_get(reader, environ, key)

    method = get("REQUEST_METHOD")
    script, path_info = get("SCRIPT_NAME"), get("PATH_INFO")
    if path_info is _MISSING:
        reader.note("PATH_INFO is missing")
    path = None
    if script is not _MISSING or path_info is not _MISSING:
        parts = (value for value in (script, path_info) if not _absent(value))
        path = "".join(_wsgi_text(value) for value in parts) or "/"
    scheme = _scheme(reader, get("wsgi.url_scheme"), "http")
    host = _valid_host(reader, get("HTTP_HOST"))
    host = host or _server_host(get("SERVER_NAME"), get("SERVER_PORT"), scheme)
    query = get("QUERY_STRING")
    query_text = "" if _absent(query) else _text(query, _MAX_QUERY)
    client, user, cookie = get("REMOTE_ADDR"), get("REMOTE_USER"), get("HTTP_COOKIE")
    return {
        "client_address": None if _absent(client) else _text(client, 100) or None,
        "method": None if _absent(method) else _text(method, 20).upper() or None,
        "url": _url(scheme, host, path, query_text),
        "path": path,
        "headers": _environ_headers(reader, environ),
        "get": _params(reader, query_text, "GET"),
        "cookies": _cookies(reader, None if _absent(cookie) else cookie),
        "user": None if _absent(user) else _text(user, 200) or None,
        "_store": environ,
    }


def _read_wsgi(reader: _Reader, environ: Mapping[Any, Any]) -> dict[str, Any]:
    info = _read_environ(reader, environ)
    if info["method"] in ("POST", "PUT", "PATCH"):
        reader.note("POST data is not read from a WSGI environ (the body belongs to the app)")
    return info


def _read_django(reader: _Reader, request: object) -> dict[str, Any]:
    meta = reader.attr(request, "META", "META")
    info = _read_environ(reader, meta if isinstance(meta, Mapping) else {})
    if not isinstance(meta, Mapping):
        reader.note("META is not a mapping")
    method = reader.attr(request, "method", "the method")
    if isinstance(method, str) and method:
        info["method"] = method.upper()[:20]
    path = reader.attr(request, "path", "the path")
    if isinstance(path, str):
        info["path"] = _text(path)
    build = reader.attr(request, "build_absolute_uri", "the URL")
    if callable(build):
        url = reader.call(build, "the absolute URL")
        if isinstance(url, str):
            info["url"] = _text(url, _MAX_QUERY)
    info["get"] = _params(reader, reader.attr(request, "GET", "GET"), "GET")
    info["post"] = _params(reader, reader.attr(request, "POST", "POST"), "POST")
    cookies = reader.attr(request, "COOKIES", "COOKIES")
    if isinstance(cookies, Mapping):
        info["cookies"] = {_text(k, 200): _text(v) for k, v in itertools.islice(
            cookies.items(), MAX_ITEMS)}
    user = reader.attr(request, "user", "the user")
    if user is not _MISSING:
        text = reader.call(lambda: str(user), "the user")
        info["user"] = _text(text, 200) if text is not _MISSING else None
    return info


def _parsed(reader: _Reader, request: object, name: str, what: str) -> Any:
    """Return a lazily parsed attribute only if the application already parsed it."""
    attributes = _get(request, "__dict__")
    if isinstance(attributes, dict) and name in attributes:  # objects with __slots__ have none
        return reader.attr(request, name, what)
    descriptor = getattr(type(request), name, None)
    if descriptor is not None and "cached" in type(descriptor).__name__:
        reader.note(f"{what} was not parsed by the application and is not read here")
        return _MISSING
    return reader.attr(request, name, what)


def _read_werkzeug(reader: _Reader, request: object) -> dict[str, Any]:
    environ = reader.attr(request, "environ", "the environ")
    info = _read_environ(reader, environ if isinstance(environ, Mapping) else {})
    args = reader.attr(request, "args", "GET")
    if args is not _MISSING:
        info["get"] = _params(reader, args, "GET")
    info["post"] = _params(reader, _parsed(reader, request, "form", "POST"), "POST")
    cookies = reader.attr(request, "cookies", "cookies")
    if not _absent(cookies):
        info["cookies"] = {k: v if isinstance(v, str) else v[0] if v else ""
                           for k, v in _params(reader, cookies, "cookies").items()}
    return info


def _scope_headers(reader: _Reader, raw: object) -> dict[str, str]:
    headers: dict[str, str] = {}
    if _absent(raw):
        return headers
    try:
        for count, pair in enumerate(cast(Iterable[Any], raw)):
            if count >= MAX_ITEMS:
                reader.note(f"headers: only the first {MAX_ITEMS} are shown")
                break
            name_raw, value_raw = pair
            name = _header_name(_text(name_raw, 200).strip().lower())
            value = value_raw
            if isinstance(value_raw, (bytes, bytearray)):
                try:
                    value = bytes(value_raw).decode("utf-8")
                except UnicodeDecodeError:
                    value = bytes(value_raw).decode("latin-1")
            value = _text(value)
            if name in headers:
                value = headers[name] + ("; " if name == "Cookie" else ", ") + value
            headers[name] = _text(value)
    except Exception as exc:
        reader.note(f"headers could not be read completely ({_describe(exc)})")
    return headers


def _read_scope(reader: _Reader, scope: Mapping[Any, Any]) -> dict[str, Any]:
    def get(key: str) -> Any:
        return _environ_get(reader, scope, key)

    scope_type = get("type")
    websocket = isinstance(scope_type, str) and scope_type == "websocket"
    headers = _scope_headers(reader, get("headers"))
    client = get("client")
    client_address = None
    if isinstance(client, (list, tuple)) and client:
        client_address = _text(client[0], 100) or None
    path = get("path")
    if _absent(path):
        raw_path = get("raw_path")
        path = None if _absent(raw_path) else urllib.parse.unquote(_text(raw_path))
        if path is None:
            reader.note("the path is missing")
    root = get("root_path")
    if path is not None:
        path = ("" if _absent(root) else _text(root)) + _text(path)
    scheme = _scheme(reader, get("scheme"), "ws" if websocket else "http")
    host = _valid_host(reader, headers.get("Host"))
    if host is None:
        server = get("server")
        if isinstance(server, (list, tuple)) and server:
            host = _server_host(server[0], server[1] if len(server) > 1 else None, scheme)
    query = get("query_string")
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    query_text = "" if _absent(query) else _text(query, _MAX_QUERY)
    method = get("method")
    user = get("user")
    user_text = None
    if not _absent(user):
        user_text = reader.call(lambda: _text(str(user), 200), "the user")
    if (method if isinstance(method, str) else "").upper() in ("POST", "PUT", "PATCH"):
        reader.note("POST data is not read from an ASGI scope (the body belongs to the app)")
    return {
        "client_address": client_address,
        "method": ("GET" if websocket else None) if _absent(method)
        else _text(method, 20).upper() or None,
        "url": _url(scheme, host, path, query_text),
        "path": path,
        "headers": headers,
        "get": _params(reader, query_text, "GET"),
        "cookies": _cookies(reader, headers.get("Cookie")),
        "user": user_text if user_text is not _MISSING else None,
        "_store": scope,
    }


def _read_asgi(reader: _Reader, scope: Mapping[Any, Any]) -> dict[str, Any]:
    return _read_scope(reader, scope)


def _read_starlette(reader: _Reader, request: object) -> dict[str, Any]:
    scope = reader.attr(request, "scope", "the scope")
    info = _read_scope(reader, scope)
    form = _get(request, "_form")  # set once the application awaited request.form()
    if not _absent(form):
        reader.notes[:] = [n for n in reader.notes if not n.startswith("POST data is not")]
        info["post"] = _params(reader, form, "POST")
    return info


_READERS: Final[dict[str, Callable[[_Reader, Any], dict[str, Any]]]] = {
    "wsgi": _read_wsgi,
    "django": _read_django,
    "werkzeug": _read_werkzeug,
    "asgi": _read_asgi,
    "starlette": _read_starlette,
}


def _forwarded_for(headers: Mapping[str, str], hops: int) -> str | None:
    entries = [part.strip() for part in headers.get("X-Forwarded-For", "").split(",")]
    entries = [entry for entry in entries if entry]
    return entries[-hops] if len(entries) >= hops else None


def _marks(request: object, store: object) -> frozenset[str]:
    """Return the sensitive POST names marked on *request* (attribute) or its environ/scope."""
    found: set[str] = set()
    for value in (_get(request, "sensitive_post_parameters"),
                  _mark_in(request), _mark_in(store)):
        if _absent(value):
            continue
        if isinstance(value, str):
            found.add(value)  # "__ALL__" (or a single name)
        elif isinstance(value, Iterable):
            try:
                found.update(item for item in itertools.islice(value, MAX_ITEMS)
                             if isinstance(item, str))
            except Exception:
                found.add(ALL_PARAMETERS)  # unreadable marks: hide everything
    return frozenset(found)


def _mark_in(mapping: object) -> Any:
    if not isinstance(mapping, Mapping):
        return _MISSING
    try:
        return mapping.get(SENSITIVE_POST_KEY, _MISSING)
    except Exception:
        return _MISSING
