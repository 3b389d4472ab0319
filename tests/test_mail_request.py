"""Tests for structlogx.mail.request: one adapter for WSGI, Django, Werkzeug, ASGI, Starlette."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from structlogx.conf import settings
from structlogx.mail.request import (
    ALL_PARAMETERS,
    MAX_ITEMS,
    SENSITIVE_POST_KEY,
    RequestInfo,
    is_internal,
    request_info,
)


def environ(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/orders/42",
        "QUERY_STRING": "page=2&tag=a&tag=b",
        "SERVER_NAME": "server.local",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "shop.example.com",
        "HTTP_USER_AGENT": "pytest",
        "HTTP_COOKIE": "sessionid=abc; theme=dark",
        "CONTENT_TYPE": "text/plain",
        "REMOTE_ADDR": "192.0.2.7",
        "wsgi.url_scheme": "https",
    }
    base.update(extra)
    return base


def read(request: object, **kwargs: Any) -> RequestInfo:
    info = request_info(request, **kwargs)
    assert info is not None
    return info


# -- WSGI environ ------------------------------------------------------------------------------


def test_wsgi_environ() -> None:
    info = read(environ())
    assert info.kind == "wsgi"
    assert info.client_address == "192.0.2.7"
    assert info.method == "GET"
    assert info.path == "/orders/42"
    assert info.url == "https://shop.example.com/orders/42?page=2&tag=a&tag=b"
    assert info.get == {"page": "2", "tag": ["a", "b"]}
    assert info.post == {}
    assert info.cookies == {"sessionid": "abc", "theme": "dark"}
    assert info.headers["User-Agent"] == "pytest"
    assert info.headers["Content-Type"] == "text/plain"
    assert info.user is None
    assert info.notes == ()


def test_wsgi_non_ascii_path_is_decoded_and_url_percent_encoded() -> None:
    # PEP 3333: PATH_INFO holds the raw bytes decoded as latin-1.
    raw = "/º/café".encode().decode("latin-1")
    info = read(environ(PATH_INFO=raw, QUERY_STRING=""))
    assert info.path == "/º/café"
    assert info.url == "https://shop.example.com/%C2%BA/caf%C3%A9"


def test_wsgi_percent_in_decoded_path_is_encoded_again() -> None:
    info = read(environ(PATH_INFO="/a%2Fb c", QUERY_STRING=""))
    assert info.path == "/a%2Fb c"
    assert info.url == "https://shop.example.com/a%252Fb%20c"


def test_wsgi_path_that_is_not_utf8_is_kept() -> None:
    info = read(environ(PATH_INFO="/\xff\xfe", QUERY_STRING=""))
    assert info.path == "/\xff\xfe"
    assert info.url is not None
    assert info.url.isascii()


@pytest.mark.parametrize(
    "host", ["evil.com\r\nX-Injected: 1", "exa mple.com", "ünicode.com", "a:b:c", "[::1", ""]
)
def test_wsgi_bad_host_header_falls_back_to_server_name(host: str) -> None:
    info = read(environ(HTTP_HOST=host, QUERY_STRING=""))
    assert info.url == "https://server.local:8000/orders/42"
    if host:
        assert any("Host header" in note for note in info.notes)


def test_wsgi_default_port_is_left_out() -> None:
    info = read(environ(HTTP_HOST="bad host", SERVER_PORT="443", QUERY_STRING=""))
    assert info.url == "https://server.local/orders/42"


def test_wsgi_missing_keys_leave_fields_empty() -> None:
    info = read({})
    assert info.kind == "wsgi"
    assert (info.client_address, info.method, info.url, info.path) == (None, None, None, None)
    assert info.headers == {}
    assert info.get == {}
    assert info.cookies == {}
    assert "PATH_INFO is missing" in info.notes


def test_wsgi_unknown_scheme_is_noted() -> None:
    info = read(environ(**{"wsgi.url_scheme": "javascript"}))
    assert info.url is not None
    assert info.url.startswith("http://")
    assert any("scheme" in note for note in info.notes)


def test_wsgi_bytes_values_are_decoded() -> None:
    info = read(environ(REQUEST_METHOD=b"post", REMOTE_ADDR=b"10.0.0.1", HTTP_X_TRACE=b"\xffid"))
    assert info.method == "POST"
    assert info.client_address == "10.0.0.1"
    assert info.headers["X-Trace"] == "\\xffid"


def test_wsgi_post_is_not_read_from_the_body() -> None:
    class Exploding:
        def read(self, *args: object) -> bytes:
            raise AssertionError("the body must not be read")

    info = read(environ(REQUEST_METHOD="POST", **{"wsgi.input": Exploding()}))
    assert info.post == {}
    assert any("POST data is not read" in note for note in info.notes)


def test_wsgi_remote_user() -> None:
    assert read(environ(REMOTE_USER="alice")).user == "alice"


def test_wsgi_values_and_parameter_counts_are_bounded() -> None:
    query = "&".join(f"p{i}=v" for i in range(MAX_ITEMS + 5))
    info = read(environ(QUERY_STRING=query, HTTP_X_BIG="x" * 10_000))
    assert len(info.get) == MAX_ITEMS
    assert len(info.headers["X-Big"]) < 4200
    assert any("first 1000 parameters" in note for note in info.notes)


def test_wsgi_lenient_cookie_header() -> None:
    info = read(environ(HTTP_COOKIE='a=1; broken; b="two"; =x; c=3=3'))
    assert info.cookies["a"] == "1"
    assert info.cookies["c"] == "3=3"
    assert info.cookies["b"] == '"two"'


def test_trusted_proxies_reads_x_forwarded_for_from_the_right() -> None:
    env = environ(HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.9, 10.0.0.2")
    assert read(env).client_address == "192.0.2.7"  # never trusted by default
    assert read(env, trusted_proxies=1).client_address == "10.0.0.2"
    assert read(env, trusted_proxies=2).client_address == "203.0.113.9"
    assert read(env, trusted_proxies=9).client_address == "192.0.2.7"


# -- Django-like --------------------------------------------------------------------------------


class QueryDict(dict[str, list[str]]):
    """Django's MultiValueDict shape: lists inside, the last value through items()."""

    def items(self) -> Any:  # type: ignore[override]
        return ((key, values[-1]) for key, values in super().items())

    def lists(self) -> Any:
        return super().items()


class User:
    def __str__(self) -> str:
        return "alice"


class DjangoRequest:
    def __init__(self, **meta: Any) -> None:
        self.META = environ(**meta)
        self.GET = QueryDict(page=["2"], tag=["a", "b"])
        self.POST = QueryDict(username=["alice"], password=["pw"])
        self.COOKIES = {"sessionid": "abc"}
        self.method = "POST"
        self.path = "/º/orders"
        self.user = User()

    def build_absolute_uri(self) -> str:
        return "https://shop.example.com/%C2%BA/orders?page=2"


def test_django_request() -> None:
    info = read(DjangoRequest())
    assert info.kind == "django"
    assert info.method == "POST"
    assert info.path == "/º/orders"
    assert info.url == "https://shop.example.com/%C2%BA/orders?page=2"
    assert info.get == {"page": "2", "tag": ["a", "b"]}
    assert info.post == {"username": "alice", "password": "pw"}
    assert info.cookies == {"sessionid": "abc"}
    assert info.user == "alice"
    assert info.client_address == "192.0.2.7"
    assert info.headers["Host"] == "shop.example.com"


class DisallowedHost(Exception):
    pass


class HostileDjangoRequest(DjangoRequest):
    def build_absolute_uri(self) -> str:
        raise DisallowedHost("Invalid HTTP_HOST header: 'evil'")

    @property
    def POST(self) -> Any:  # type: ignore[override]
        raise OSError("UnreadablePostError: client went away")

    @POST.setter
    def POST(self, value: Any) -> None:
        pass

    @property
    def user(self) -> Any:  # type: ignore[override]
        raise RuntimeError("database is down")

    @user.setter
    def user(self, value: Any) -> None:
        pass


def test_django_request_whose_properties_raise() -> None:
    info = read(HostileDjangoRequest(HTTP_HOST="evil\r\n"))
    assert info.post == {}
    assert info.user is None
    assert info.url == "https://server.local:8000/orders/42?page=2&tag=a&tag=b"  # from META
    notes = " | ".join(info.notes)
    assert "DisallowedHost" in notes
    assert "UnreadablePostError" in notes
    assert "database is down" in notes


def test_django_request_whose_meta_raises() -> None:
    class Broken:
        @property
        def META(self) -> Any:
            raise KeyError("META")

    # Recognised by the attribute only when reading it works: otherwise not a request.
    assert request_info(Broken()) is None


def test_django_request_with_garbage_attributes() -> None:
    request = DjangoRequest()
    request.META = "not a mapping"  # type: ignore[assignment]
    request.GET = 42  # type: ignore[assignment]
    request.method = None  # type: ignore[assignment]
    info = read(request)
    assert info.kind == "django"
    assert info.get == {}
    assert any("META is not a mapping" in note for note in info.notes)


# -- Werkzeug/Flask-like --------------------------------------------------------------------------


class WerkzeugRequest:
    def __init__(self, env: dict[str, Any]) -> None:
        self.environ = env
        self.args = QueryDict(page=["2"])
        self.cookies = QueryDict(sessionid=["abc"])
        self.form = QueryDict(pin=["1234"])


def test_werkzeug_request() -> None:
    info = read(WerkzeugRequest(environ(REQUEST_METHOD="POST")))
    assert info.kind == "werkzeug"
    assert info.get == {"page": "2"}
    assert info.post == {"pin": "1234"}
    assert info.cookies == {"sessionid": "abc"}
    assert info.url == "https://shop.example.com/orders/42?page=2&tag=a&tag=b"


class LazyWerkzeugRequest:
    """Werkzeug parses ``form`` on first access (a cached property): reading it would consume
    the body, so the adapter only reads it once the application has."""

    def __init__(self, env: dict[str, Any]) -> None:
        self.environ = env
        self.parsed = 0

    @functools.cached_property
    def form(self) -> QueryDict:
        self.parsed += 1
        return QueryDict(pin=["1234"])


def test_werkzeug_form_is_read_only_when_already_parsed() -> None:
    request = LazyWerkzeugRequest(environ(REQUEST_METHOD="POST"))
    info = read(request)
    assert request.parsed == 0
    assert info.post == {}
    assert any("not parsed by the application" in note for note in info.notes)
    assert request.form == {"pin": ["1234"]}
    assert read(request).post == {"pin": "1234"}
    assert request.parsed == 1


# -- ASGI scope and Starlette-like -----------------------------------------------------------------


def scope(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "scheme": "https",
        "path": "/º/orders",
        "raw_path": b"/%C2%BA/orders",
        "root_path": "",
        "query_string": b"page=2&tag=a&tag=b",
        "headers": [
            (b"host", b"shop.example.com"),
            (b"cookie", b"sessionid=abc"),
            (b"cookie", b"theme=dark"),
            (b"accept", b"text/html"),
            (b"accept", b"*/*"),
            (b"x-name", "Zoë".encode()),
        ],
        "client": ("198.51.100.4", 51000),
        "server": ("server.local", 443),
    }
    base.update(extra)
    return base


def test_asgi_scope() -> None:
    info = read(scope())
    assert info.kind == "asgi"
    assert info.client_address == "198.51.100.4"
    assert info.method == "GET"
    assert info.path == "/º/orders"
    assert info.url == "https://shop.example.com/%C2%BA/orders?page=2&tag=a&tag=b"
    assert info.get == {"page": "2", "tag": ["a", "b"]}
    assert info.cookies == {"sessionid": "abc", "theme": "dark"}
    assert info.headers["Accept"] == "text/html, */*"
    assert info.headers["X-Name"] == "Zoë"


def test_asgi_scope_without_host_uses_server_and_websocket_is_a_get() -> None:
    info = read(scope(type="websocket", scheme=None, method=None, headers=[], client=None))
    assert info.method == "GET"
    assert info.url == "ws://server.local:443/%C2%BA/orders?page=2&tag=a&tag=b"
    assert info.client_address is None


def test_asgi_hostile_scope() -> None:
    info = read(scope(
        headers=[(b"host", b"evil\r\nx"), "not a pair", (b"x", b"y")],
        client="garbage", path=None, raw_path=b"/a%20b", query_string=12, server=None,
    ))
    assert info.path == "/a b"
    assert info.url == "/a%20b?12"
    assert info.client_address is None
    assert any("Host header" in note for note in info.notes)
    assert any("headers could not be read completely" in note for note in info.notes)


def test_asgi_user_in_scope() -> None:
    assert read(scope(user=User())).user == "alice"


class StarletteRequest:
    def __init__(self, sc: dict[str, Any], form: Any = None) -> None:
        self.scope = sc
        if form is not None:
            self._form = form


class FormData:
    def __init__(self, *items: tuple[str, str]) -> None:
        self.items_ = items

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self.items_)


def test_starlette_request() -> None:
    info = read(StarletteRequest(scope(method="POST")))
    assert info.kind == "starlette"
    assert info.post == {}
    assert any("POST data is not read" in note for note in info.notes)
    parsed = read(StarletteRequest(scope(method="POST"), FormData(("a", "1"), ("a", "2"))))
    assert parsed.post == {"a": ["1", "2"]}
    assert not any("POST data is not read" in note for note in parsed.notes)


# -- recognition, marks, never raising ----------------------------------------------------------


@pytest.mark.parametrize("request_", [None, 42, "GET /", object(), [("a", "b")]])
def test_unknown_requests_give_none(request_: object) -> None:
    assert request_info(request_) is None


def test_a_broken_mapping_still_gives_a_report() -> None:
    class Broken(dict[str, Any]):
        def get(self, *args: Any) -> Any:
            raise RuntimeError("no")

        def items(self) -> Any:
            raise RuntimeError("no")

    info = read(Broken())
    assert info.kind == "wsgi"
    assert info.notes


def test_marks_are_read_from_attribute_and_environ() -> None:
    request = DjangoRequest()
    request.sensitive_post_parameters = ["pin"]  # type: ignore[attr-defined]  # Django's mark
    assert read(request).sensitive_post_parameters == {"pin"}
    env = environ(**{SENSITIVE_POST_KEY: ALL_PARAMETERS})
    assert read(env).sensitive_post_parameters == {ALL_PARAMETERS}
    sc = scope(**{SENSITIVE_POST_KEY: ["a", "b"]})
    assert read(StarletteRequest(sc)).sensitive_post_parameters == {"a", "b"}


def test_request_info_is_frozen() -> None:
    info = read(environ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.method = "PUT"  # type: ignore[misc]


_TEXT = st.text(max_size=30)
_VALUES = st.one_of(_TEXT, st.binary(max_size=30), st.none(), st.integers(), st.floats())
_KEYS = st.one_of(
    st.sampled_from([
        "REQUEST_METHOD", "PATH_INFO", "SCRIPT_NAME", "QUERY_STRING", "HTTP_HOST", "SERVER_NAME",
        "SERVER_PORT", "REMOTE_ADDR", "REMOTE_USER", "HTTP_COOKIE", "CONTENT_TYPE",
        "wsgi.url_scheme", "HTTP_X_FORWARDED_FOR", SENSITIVE_POST_KEY, "type",
    ]),
    _TEXT,
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=12), st.integers(0, 3))
def test_arbitrary_environ_never_raises(env: dict[str, Any], proxies: int) -> None:
    info = request_info(env, trusted_proxies=proxies)
    assert isinstance(info, RequestInfo)
    assert info.url is None or info.url.isascii()
    assert info.path is None or isinstance(info.path, str)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in info.headers.items())


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries({"type": st.sampled_from(["http", "websocket"])}, optional={
        "path": _VALUES, "raw_path": _VALUES, "query_string": _VALUES, "method": _VALUES,
        "scheme": _VALUES, "root_path": _VALUES,
        "headers": st.lists(st.tuples(_VALUES, _VALUES), max_size=5),
        "client": st.one_of(_VALUES, st.tuples(_VALUES, _VALUES)),
        "server": st.one_of(_VALUES, st.tuples(_VALUES, _VALUES)),
    })
)
def test_arbitrary_scope_never_raises(sc: dict[str, Any]) -> None:
    info = request_info(sc)
    assert isinstance(info, RequestInfo)
    assert info.kind == "asgi"


# -- is_internal --------------------------------------------------------------------------------


def info_from(address: str | None) -> RequestInfo:
    return RequestInfo(client_address=address)


@pytest.mark.parametrize(
    ("address", "internal_ips", "expected"),
    [
        ("127.0.0.1", ["127.0.0.1"], True),
        ("127.0.0.2", ["127.0.0.1"], False),
        ("::1", ["0:0:0:0:0:0:0:1"], True),
        ("::ffff:127.0.0.1", ["127.0.0.1"], True),
        ("10.1.2.3", ["10.0.0.0/8"], True),
        ("11.1.2.3", ["10.0.0.0/8"], False),
        ("fe80::1%eth0", ["fe80::/10"], True),
        ("not-an-ip", ["not-an-ip"], True),
        ("not-an-ip", ["10.0.0.0/8", "garbage/99"], False),
        ("127.0.0.1", [], False),
        (None, ["127.0.0.1"], False),
    ],
)
def test_is_internal(address: str | None, internal_ips: list[str], expected: bool) -> None:
    assert is_internal(info_from(address), internal_ips) is expected


def test_is_internal_defaults_to_settings_and_accepts_none() -> None:
    assert is_internal(None) is False
    with settings.override(INTERNAL_IPS=["192.0.2.7"]):
        assert is_internal(read(environ())) is True
    assert is_internal(read(environ())) is False


def test_is_internal_ignores_the_forwarded_header() -> None:
    forged = read(environ(HTTP_X_FORWARDED_FOR="127.0.0.1"))
    assert is_internal(forged, ["127.0.0.1"]) is False


def test_a_request_object_with_slots_is_read() -> None:
    class Slotted:
        __slots__ = ("environ",)

        def __init__(self, environ: dict[str, object]) -> None:
            self.environ = environ

    info = request_info(
        Slotted({"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "REMOTE_ADDR": "127.0.0.1"})
    )
    assert info is not None
    assert info.kind != "unknown"
    assert info.client_address == "127.0.0.1"
