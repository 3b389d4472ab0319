"""Tests for structlogx.mail.report: the exception report, redaction, sensitive markers."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import re
import string
import sys
import time
from types import TracebackType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from structlogx.conf import settings
from structlogx.mail.report import (
    NO_EXCEPTION_MESSAGE,
    ExceptionReporter,
    mark_sensitive_post_parameters,
    sensitive_post_parameters,
    sensitive_variables,
)
from structlogx.mail.request import SENSITIVE_POST_KEY
from structlogx.redact import SUBSTITUTE

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]
FORBIDDEN_TAGS = ("<script", "<form", "<iframe", "<object", "<embed", "<link", "<img", "<base")


def capture(func: Any, *args: Any, **kwargs: Any) -> ExcInfo:
    try:
        func(*args, **kwargs)
    except BaseException:
        exc_type, exc_value, tb = sys.exc_info()
        assert exc_type is not None
        assert exc_value is not None
        assert tb is not None
        return exc_type, exc_value, tb
    raise AssertionError("did not raise")


def reports(request: object, exc_info: Any) -> tuple[str, str]:
    reporter = ExceptionReporter(request, *exc_info)
    return reporter.get_traceback_text(), reporter.get_traceback_html()


_SUFFIX = "".join(chr(code) for code in (81, 55, 90, 57, 75))


def planted(tag: str) -> str:
    """Return a secret built at run time: the report's source lines never contain it."""
    return tag + _SUFFIX


class QueryDict(dict[str, list[str]]):
    def items(self) -> Any:  # type: ignore[override]
        return ((key, values[-1]) for key, values in super().items())

    def lists(self) -> Any:
        return super().items()


class DjangoRequest:
    def __init__(self, path: str = "/orders", **post: str) -> None:
        self.META = {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "HTTP_HOST": "shop.example.com",
            "REMOTE_ADDR": "192.0.2.7", "QUERY_STRING": "page=1", "wsgi.url_scheme": "https",
        }
        self.GET = QueryDict(page=["1"])
        self.POST = QueryDict({key: [value] for key, value in post.items()})
        self.COOKIES: dict[str, str] = {}
        self.method = "POST"
        self.path = path


# -- exception, chain, notes, frames -------------------------------------------------------------


def inner() -> None:
    raise KeyError("inner key")


def outer_with_cause() -> None:
    try:
        inner()
    except KeyError as exc:
        raise ValueError("outer value") from exc


def outer_with_context() -> None:
    try:
        inner()
    except KeyError:
        raise ValueError("while handling")  # noqa: B904 - the implicit context is the point


def outer_suppressed() -> None:
    try:
        inner()
    except KeyError:
        raise ValueError("suppressed") from None


def test_chain_with_cause_is_shown_root_first() -> None:
    text, html = reports(None, capture(outer_with_cause))
    first, second = text.index("KeyError: 'inner key'"), text.index("ValueError: outer value")
    assert first < text.index("The above exception was the direct cause") < second
    assert "in inner" in text
    assert "in outer_with_cause" in text
    assert "direct cause" in html


def test_chain_with_context() -> None:
    text, _ = reports(None, capture(outer_with_context))
    assert "During handling of the above exception, another exception occurred:" in text
    assert text.index("KeyError") < text.index("ValueError: while handling")


def test_suppressed_context_is_not_shown() -> None:
    text, _ = reports(None, capture(outer_suppressed))
    assert "inner key" not in text
    assert "ValueError: suppressed" in text


def test_chain_cycle_is_cut() -> None:
    first, second = ValueError("first"), KeyError("second")
    first.__context__, second.__context__ = second, first
    reporter = ExceptionReporter(None, ValueError, first, None)
    text = reporter.get_traceback_text()
    assert "loops back" in text
    assert text.count("ValueError: first") == 2  # the heading and the chain, once
    data = reporter.get_traceback_data()
    assert [entry["type"] for entry in data["exceptions"]] == ["KeyError", "ValueError"]


def test_long_chain_is_cut() -> None:
    exc: BaseException = ValueError("0")
    for number in range(1, 40):
        newer = ValueError(str(number))
        newer.__cause__ = exc
        exc = newer
    data = ExceptionReporter(None, ValueError, exc, None).get_traceback_data()
    assert len(data["exceptions"]) == ExceptionReporter.max_chain
    assert "cut after" in data["exceptions"][0]["chain_note"]


def test_notes_are_shown_and_redacted() -> None:
    def fail() -> None:
        exc = ValueError("with notes")
        exc.__notes__ = ["checked order 42", "Authorization: Bearer " + planted("note-secret")]
        raise exc

    text, html = reports(None, capture(fail))
    assert "checked order 42" in text
    assert "checked order 42" in html
    assert planted("note-secret") not in text
    assert planted("note-secret") not in html


def test_frames_have_source_context() -> None:
    reporter = ExceptionReporter(None, *capture(outer_with_cause))
    data = reporter.get_traceback_data()
    frame = data["exceptions"][0]["frames"][-1]
    assert frame["function"] == "inner"
    assert frame["context_line"] == '    raise KeyError("inner key")'
    assert [text for _, text in frame["pre_context"]][-1] == "def inner() -> None:"
    assert data["lastframe"]["function"] == "outer_with_cause"
    assert "Exception Location:" in reporter.get_traceback_text()
    assert '<li class="current">    raise KeyError(&quot;inner key&quot;)</li>' in (
        reporter.get_traceback_html()
    )


def test_missing_source_is_handled() -> None:
    namespace: dict[str, Any] = {}
    exec(compile("def generated():\n    raise OSError('no source')\n", "<generated>", "exec"),
         namespace)
    text, html = reports(None, capture(namespace["generated"]))
    assert 'File "<generated>", line 2, in generated' in text
    assert "Source not available." in html


def test_deep_recursion_is_bounded() -> None:
    def down(n: int) -> None:
        down(n + 1)

    exc_info = capture(down, 0)
    started = time.perf_counter()
    reporter = ExceptionReporter(None, *exc_info)
    html = reporter.get_traceback_html()
    assert time.perf_counter() - started < 10
    assert "frames not shown" in html
    frames = reporter.get_traceback_data()["exceptions"][0]["frames"]
    assert len(frames) == ExceptionReporter.max_frames + 1


def test_non_ascii_path_in_the_report() -> None:
    request = DjangoRequest(path="/º")
    text, html = reports(request, capture(inner))
    assert text.startswith("KeyError at /º\n")
    assert "KeyError at /º" in html
    text, _ = reports(request, (None, "Custom message", None))
    assert text.startswith("Report at /º\nCustom message\n")


# -- HTML -----------------------------------------------------------------------------------------


def test_html_is_static_and_escaped() -> None:
    def fail() -> None:
        raise ValueError('<script>alert("x")</script><form action="x"><img src=x onerror=y>')

    html = ExceptionReporter(DjangoRequest(path="/<script>"), *capture(fail)).get_traceback_html()
    lowered = html.lower()
    for tag in FORBIDDEN_TAGS:
        assert tag not in lowered, tag
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert '<div id="traceback">' in html
    assert html.startswith("<!DOCTYPE html>")


def test_local_variables_only_in_html() -> None:
    def fail() -> None:
        shown_marker = planted("VISIBLE-LOCAL-VALUE")
        raise RuntimeError(len(shown_marker))

    text, html = reports(None, capture(fail))
    assert planted("VISIBLE-LOCAL-VALUE") in html
    assert planted("VISIBLE-LOCAL-VALUE") not in text


def test_repr_that_raises_does_not_break_the_report() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("repr exploded")

        def __str__(self) -> str:
            raise RuntimeError("str exploded")

    def fail() -> None:
        hostile = Hostile()
        raise ValueError(hostile)

    text, html = reports(None, capture(fail))
    assert "<unrepresentable" not in html  # escaped:
    assert "&lt;unrepresentable" in html
    assert "ValueError: <exception str() failed>" in text


def test_huge_locals_are_trimmed_and_cheap() -> None:
    def fail() -> None:
        long_text = "x" * 1_000_000
        many = list(range(1_000_000))
        nested: list[Any] = []
        for _ in range(1000):
            nested = [nested]
        raise ValueError(len(long_text) + len(many) + len(nested))

    exc_info = capture(fail)
    started = time.perf_counter()
    data = ExceptionReporter(None, *exc_info).get_traceback_data()
    assert time.perf_counter() - started < 2
    variables = dict(data["exceptions"][0]["frames"][-1]["variables"])
    assert all(len(value) <= ExceptionReporter.repr_limit for value in variables.values())
    assert variables["long_text"].endswith("chars]")
    assert variables["many"].startswith("[0, 1, 2,")
    assert "..." in variables["many"]


def test_report_without_exception() -> None:
    reporter = ExceptionReporter(DjangoRequest(), None, "Something odd: %s", None)
    text = reporter.get_traceback_text()
    assert text.startswith("Report at /orders\nSomething odd: %s\n")
    assert "Request Method: POST" in text
    assert "Settings" in text
    assert "Traceback" not in text
    html = ExceptionReporter(None, None, None, None).get_traceback_html()
    assert NO_EXCEPTION_MESSAGE in html
    assert '<div id="traceback">' in html
    bare = ExceptionReporter(None, None, None, None).get_traceback_text()
    assert "Request data not supplied" in bare


def test_a_failing_part_is_replaced_and_the_rest_is_shown() -> None:
    class Broken(ExceptionReporter):
        def get_request_info(self) -> Any:
            raise RuntimeError("adapter bug")

    reporter = Broken(DjangoRequest(), *capture(inner))
    text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
    assert "<could not be rendered: RuntimeError: adapter bug>" in text
    assert "&lt;could not be rendered: RuntimeError: adapter bug&gt;" in html
    assert "KeyError: 'inner key'" in text
    assert "EMAIL_HOST" in text


@pytest.mark.parametrize(
    "args",
    [(42, object(), None), (ValueError, None, None), (None, ValueError("x"), None),
     ("junk", b"bytes", None), (None, 12, None)],
)
def test_garbage_arguments_never_raise(args: tuple[Any, Any, Any]) -> None:
    reporter = ExceptionReporter(object(), *args)
    assert reporter.get_traceback_text()
    assert '<div id="traceback">' in reporter.get_traceback_html()
    assert isinstance(reporter.get_traceback_data(), dict)


def test_custom_text_through_a_subclass() -> None:
    class Custom(ExceptionReporter):
        def get_traceback_text(self) -> str:
            return "custom traceback text"

    assert Custom(None, *capture(inner)).get_traceback_text() == "custom traceback text"


# -- redaction ------------------------------------------------------------------------------------


def test_sensitive_locals_keys_and_values_are_hidden() -> None:
    @dataclasses.dataclass
    class Credentials:
        user: str
        password: str

    point = collections.namedtuple("point", ["x", "token"])

    def fail() -> None:
        password = planted("pw-local")
        config = {"db": {"api_key": planted("pw-nested")}, "ok": "fine"}
        creds = Credentials("alice", planted("pw-dataclass"))
        pair = point(1, planted("pw-namedtuple"))
        headers = [(b"authorization", planted("pw-pair").encode()), (b"accept", b"*/*")]
        dsn = "postgres://app:" + planted("pw-url") + "@db/app"
        card = " ".join(["4111"] * 4)
        blob = "user=bob&password=" + planted("pw-assign")
        raise ValueError(len(password + str(config) + str(creds) + str(pair) + str(headers)
                             + dsn + card + blob))

    html = ExceptionReporter(None, *capture(fail)).get_traceback_html()
    tags = ["pw-local", "pw-nested", "pw-dataclass", "pw-namedtuple", "pw-pair", "pw-url",
            "pw-assign"]
    for secret in [*map(planted, tags), "4111 1111"]:
        assert secret not in html, secret
    assert "fine" in html
    assert "alice" in html
    assert "postgres://app:" in html


def test_request_secrets_are_hidden() -> None:
    request = DjangoRequest(password=planted("post-secret"), name="Zoë")
    request.META["HTTP_AUTHORIZATION"] = "Bearer " + planted("header-secret")
    request.META["HTTP_X_CUSTOM"] = "Bearer " + planted("custom-secret")
    request.META["QUERY_STRING"] = "page=1&access_token=" + planted("query-secret")
    request.GET = QueryDict(page=["1"], access_token=[planted("query-secret")])
    request.COOKIES = {"sid": planted("cookie-secret")}
    text, html = reports(request, capture(inner))
    for tag in ("post-secret", "header-secret", "custom-secret", "query-secret", "cookie-secret"):
        assert planted(tag) not in text, tag
        assert planted(tag) not in html, tag
    assert "name = 'Zoë'" in text
    assert f"access_token={SUBSTITUTE}" in text
    assert "sid" in text


def test_settings_secrets_are_hidden() -> None:
    with settings.override(EMAIL_HOST_PASSWORD=planted("settings-secret"),
                           AUDIT_STORE="postgresql://audit:" + planted("dsn-secret") + "@db/a"):
        text, html = reports(None, capture(inner))
    for secret in (planted("settings-secret"), planted("dsn-secret")):
        assert secret not in text
        assert secret not in html
    assert f"EMAIL_HOST_PASSWORD = {SUBSTITUTE}" in text
    assert "EMAIL_HOST = 'localhost'" in text


def test_exception_message_is_scrubbed_but_kept() -> None:
    def fail() -> None:
        raise ConnectionError(f"cannot reach https://u:{planted('url-secret')}@host/ with "
                              f"Bearer {planted('token-secret')}, order 42")

    text, html = reports(None, capture(fail))
    for secret in (planted("url-secret"), planted("token-secret")):
        assert secret not in text
        assert secret not in html
    assert "order 42" in text


_SECRET = st.text(alphabet=string.ascii_letters + string.digits, min_size=16, max_size=24)


@hypothesis_settings(max_examples=60, deadline=None)
@given(_SECRET, _SECRET, _SECRET, _SECRET, _SECRET)
def test_planted_secrets_never_appear(
    local_secret: str, post_secret: str, header_secret: str, setting_secret: str,
    nested_secret: str,
) -> None:
    request = DjangoRequest(password=post_secret, username="alice")
    request.META["HTTP_AUTHORIZATION"] = "Bearer " + header_secret

    def login(password: str) -> None:
        profile = {"user": "alice", "credentials": {"secret_key": nested_secret}}
        raise PermissionError(f"login failed for {profile['user']}")

    with settings.override(EMAIL_HOST_PASSWORD=setting_secret):
        exc_info = capture(login, local_secret)
        text, html = reports(request, exc_info)
    for planted in (local_secret, post_secret, header_secret, setting_secret, nested_secret):
        assert planted not in text
        assert planted not in html


# -- sensitive_variables ---------------------------------------------------------------------------


@sensitive_variables("pin", "iban")
def pay(pin: str, amount: int) -> None:
    iban = pin[::-1]
    helper(pin, iban)


def helper(pin: str, other: str) -> None:
    raise ValueError(f"{len(pin)}:{len(other)}")


@sensitive_variables()
def hide_all(visible_name: str) -> None:
    other = visible_name.upper()
    raise ValueError(other[:1])


def variables_of(data: dict[str, Any], function: str) -> dict[str, str]:
    for frame in data["exceptions"][-1]["frames"]:
        if frame.get("function", "").endswith(function):
            return dict(frame["variables"])
    raise AssertionError(function)


def test_sensitive_variables_hides_the_named_locals_and_callee_namesakes() -> None:
    data = ExceptionReporter(None, *capture(pay, "98" + "76", 5)).get_traceback_data()
    in_pay = variables_of(data, "pay")
    assert in_pay == {"pin": SUBSTITUTE, "amount": "5", "iban": SUBSTITUTE}
    in_helper = variables_of(data, "helper")
    assert in_helper["pin"] == SUBSTITUTE
    assert in_helper["other"] == "'6789'"  # another name: shown


def test_sensitive_variables_without_names_hides_all() -> None:
    reporter = ExceptionReporter(None, *capture(hide_all, "abc" + "def"))
    assert set(variables_of(reporter.get_traceback_data(), "hide_all").values()) == {SUBSTITUTE}
    assert "ABCDEF" not in reporter.get_traceback_html()


def test_sensitive_variables_on_async_and_wrapped_functions() -> None:
    import functools

    def logged(func: Any) -> Any:
        @functools.wraps(func)
        def wrapper(*args: Any) -> Any:
            return func(*args)

        return wrapper

    @sensitive_variables("otp")
    async def verify(otp: str) -> None:
        raise ValueError(len(otp))

    @sensitive_variables("otp")
    @logged
    def verify_sync(otp: str) -> None:
        raise ValueError(len(otp))

    for exc_info in (capture(asyncio.run, verify(planted("otp-async"))),
                     capture(verify_sync, planted("otp-sync"))):
        html = ExceptionReporter(None, *exc_info).get_traceback_html()
        assert planted("otp-async") not in html
        assert planted("otp-sync") not in html


def test_sensitive_variables_misuse() -> None:
    with pytest.raises(TypeError, match=r"@sensitive_variables\(\)"):
        sensitive_variables(pay)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="non-empty str"):
        sensitive_variables("")
    with pytest.raises(TypeError, match="decorates functions"):
        sensitive_variables("x")(42)


# -- sensitive POST parameters ---------------------------------------------------------------------


def test_decorator_marks_the_request_argument() -> None:
    @sensitive_post_parameters("pin")
    def view(request: DjangoRequest) -> None:
        return None

    request = DjangoRequest(pin=planted("pin-post"), name="visible")
    view(request)
    assert request.sensitive_post_parameters == ["pin"]  # type: ignore[attr-defined]
    text, _ = reports(request, capture(inner))
    assert planted("pin-post") not in text
    assert "visible" in text


def test_decorator_covers_reports_built_inside_and_after_the_view() -> None:
    shared = DjangoRequest(pin=planted("pin-shared"))  # a framework global, not an argument
    inside: list[str] = []

    @sensitive_post_parameters("pin")
    def view() -> None:
        try:
            inner()
        except KeyError:
            inside.append(ExceptionReporter(shared, *sys.exc_info()).get_traceback_text())
        raise ValueError("escapes")

    exc_info = capture(view)
    assert planted("pin-shared") not in inside[0]
    after = ExceptionReporter(shared, *exc_info).get_traceback_text()
    assert planted("pin-shared") not in after
    # Outside the view and for another exception, the marks are gone.
    assert planted("pin-shared") in ExceptionReporter(shared, *capture(inner)).get_traceback_text()


def test_decorator_on_async_views_and_all_parameters() -> None:
    @sensitive_post_parameters()
    async def view(scope: dict[str, Any]) -> None:
        raise ValueError("async")

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    capture(asyncio.run, view(scope))
    assert scope[SENSITIVE_POST_KEY] == "__ALL__"
    with pytest.raises(TypeError, match=r"@sensitive_post_parameters\(\)"):
        sensitive_post_parameters(inner)  # type: ignore[arg-type]


def test_mark_per_request_and_globally() -> None:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/"}
    mark_sensitive_post_parameters(environ, "a")
    mark_sensitive_post_parameters(environ, "b")
    assert environ[SENSITIVE_POST_KEY] == ["a", "b"]
    with pytest.raises(TypeError, match="cannot mark"):
        mark_sensitive_post_parameters(42, "a")

    class Strict(ExceptionReporter):
        sensitive_post_parameters = frozenset({"name"})

    request = DjangoRequest(name=planted("global-hidden"))
    exc_info = capture(inner)
    assert planted("global-hidden") not in Strict(request, *exc_info).get_traceback_text()
    assert planted("global-hidden") in ExceptionReporter(request, *exc_info).get_traceback_text()


def test_text_report_layout() -> None:
    text, _ = reports(DjangoRequest(name="x"), capture(outer_with_cause))
    assert re.search(r"^Request Method: POST$", text, re.M)
    assert re.search(r"^Request URL: https://shop\.example\.com/orders\?page=1$", text, re.M)
    assert re.search(r"^Client Address: 192\.0\.2\.7$", text, re.M)
    assert "GET:\npage = '1'\nPOST:\nname = 'x'\nCOOKIES: No COOKIES data\nHEADERS:\n" in text


_ANY_TEXT = st.one_of(st.text(max_size=40), st.binary(max_size=40))


@hypothesis_settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "HTTP_HOST",
                         "HTTP_COOKIE", "HTTP_AUTHORIZATION", "REMOTE_ADDR", "wsgi.url_scheme"]),
        _ANY_TEXT,
    ),
    st.one_of(st.none(), st.text(max_size=40)),
)
def test_any_environ_and_message_give_a_report(
    environ: dict[str, Any], message: str | None
) -> None:
    reporter = ExceptionReporter(environ, None, message, None)
    text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
    assert "<could not be rendered" not in text
    assert '<div id="traceback">' in html
    assert "<script" not in html.lower()
