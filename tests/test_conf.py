"""Tests for structlogx.conf: defaults, environment parsing, precedence, validation, overrides."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from structlogx.conf import SETTINGS, Setting, Settings, settings

EXPECTED_DEFAULTS: dict[str, Any] = {
    "DEBUG": False,
    "ADMINS": [],
    "MANAGERS": [],
    "SERVER_EMAIL": "root@localhost",
    "DEFAULT_FROM_EMAIL": "webmaster@localhost",
    "EMAIL_SUBJECT_PREFIX": "[structlogx] ",
    "INTERNAL_IPS": [],
    "EMAIL_BACKEND": "structlogx.mail.backends.SMTPBackend",
    "EMAIL_HOST": "localhost",
    "EMAIL_PORT": 25,
    "EMAIL_HOST_USER": "",
    "EMAIL_HOST_PASSWORD": "",
    "EMAIL_USE_TLS": False,
    "EMAIL_USE_SSL": False,
    "EMAIL_TIMEOUT": 10.0,
    "EMAIL_SSL_CERTFILE": None,
    "EMAIL_SSL_KEYFILE": None,
    "EMAIL_FILE_PATH": None,
    "EMAIL_USE_LOCALTIME": False,
    "AUDIT_STORE": "sqlite:///audit.sqlite3",
}


@pytest.fixture(autouse=True)
def _clean_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("STRUCTLOGX_"):
            monkeypatch.delenv(name)
    yield
    settings.reset()


# --- table and defaults -------------------------------------------------------------------


def test_defaults() -> None:
    assert settings.as_dict() == EXPECTED_DEFAULTS
    assert list(settings.as_dict()) == list(EXPECTED_DEFAULTS)  # declaration order


def test_names_table_and_dir_agree() -> None:
    assert settings.names() == tuple(EXPECTED_DEFAULTS)
    assert tuple(spec.name for spec in SETTINGS) == settings.names()
    assert set(settings.names()) <= set(dir(settings))


def test_every_setting_is_documented() -> None:
    for spec in SETTINGS:
        assert spec.doc
        assert ":" not in spec.doc  # napoleon would read "x: y" as a type
        details = f"Default ``{spec.default!r}``, env ``{spec.env_var}``."
        assert spec.__doc__ == f"{spec.doc}\n\n{details}"
        assert spec.env_var == f"STRUCTLOGX_{spec.name}"
        assert getattr(Settings, spec.name) is spec  # class access gives the declaration


def test_docs_table_lists_every_setting() -> None:
    page = (Path(__file__).parents[1] / "docs" / "settings.md").read_text(encoding="utf-8")
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows[: len(SETTINGS)]] == list(settings.names())
    for spec, row in zip(SETTINGS, rows, strict=False):
        assert f"| `{spec.default!r}` |" in row
        assert f"| `{spec.env_var}` |" in row


def test_fresh_instance_is_independent() -> None:
    other = Settings()
    other.configure(DEBUG=True)
    assert other.DEBUG is True
    assert settings.DEBUG is False


# --- environment ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "On"])
def test_env_bool_true(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("STRUCTLOGX_DEBUG", raw)
    assert settings.DEBUG is True


@pytest.mark.parametrize("raw", ["0", "false", "No", " OFF ", ""])
def test_env_bool_false(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("STRUCTLOGX_EMAIL_USE_SSL", "1")
    assert settings.EMAIL_USE_SSL is True
    monkeypatch.setenv("STRUCTLOGX_EMAIL_USE_SSL", raw)
    assert settings.EMAIL_USE_SSL is False


def test_env_invalid_bool_raises_on_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRUCTLOGX_DEBUG", "maybe")  # setting it is fine ...
    with pytest.raises(ValueError, match="STRUCTLOGX_DEBUG='maybe'") as info:
        _ = settings.DEBUG  # ... reading it is not
    for spelling in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        assert spelling in str(info.value)


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("EMAIL_PORT", " 587 ", 587),
        ("EMAIL_TIMEOUT", "2.5", 2.5),
        ("EMAIL_TIMEOUT", "3", 3.0),
        ("EMAIL_TIMEOUT", "", None),
        ("EMAIL_SSL_CERTFILE", "/etc/cert.pem", "/etc/cert.pem"),
        ("EMAIL_SSL_CERTFILE", "", None),
        ("EMAIL_SUBJECT_PREFIX", " [app] ", " [app] "),  # str: as is, not stripped
        ("EMAIL_HOST_USER", "", ""),  # a non-optional str keeps the empty string
        ("INTERNAL_IPS", " 10.0.0.1, ,10.0.0.2 ,", ["10.0.0.1", "10.0.0.2"]),
        ("INTERNAL_IPS", "", []),
        ("ADMINS", "ops@example.com,dev@example.com", ["ops@example.com", "dev@example.com"]),
    ],
)
def test_env_kinds(monkeypatch: pytest.MonkeyPatch, name: str, raw: str, expected: object) -> None:
    monkeypatch.setenv(f"STRUCTLOGX_{name}", raw)
    value = getattr(settings, name)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(("name", "raw"), [("EMAIL_PORT", "25.0"), ("EMAIL_TIMEOUT", "soon")])
def test_env_invalid_number(monkeypatch: pytest.MonkeyPatch, name: str, raw: str) -> None:
    monkeypatch.setenv(f"STRUCTLOGX_{name}", raw)
    with pytest.raises(ValueError, match=f"STRUCTLOGX_{name}={raw!r} is not"):
        getattr(settings, name)


def test_env_change_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, expected in [("1", True), ("0", False), ("1", True), ("on", True)]:
        monkeypatch.setenv("STRUCTLOGX_DEBUG", raw)
        assert settings.DEBUG is expected
    monkeypatch.delenv("STRUCTLOGX_DEBUG")
    assert settings.DEBUG is False


def test_env_parse_is_cached_per_raw_string(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real_parse = Setting.parse

    def counting_parse(self: Setting[Any], raw: str) -> Any:
        parsed.append(raw)
        return real_parse(self, raw)

    monkeypatch.setattr(Setting, "parse", counting_parse)
    monkeypatch.setenv("STRUCTLOGX_EMAIL_PORT", "2525")
    assert [settings.EMAIL_PORT for _ in range(3)] == [2525] * 3
    monkeypatch.setenv("STRUCTLOGX_EMAIL_PORT", "2526")
    assert [settings.EMAIL_PORT for _ in range(3)] == [2526] * 3
    assert parsed == ["2525", "2526"]


def test_env_read_through_replaced_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "environ", {"STRUCTLOGX_EMAIL_PORT": "2525"})
    assert settings.EMAIL_PORT == 2525


_ACCEPTED = {"1": True, "true": True, "yes": True, "on": True}
_ACCEPTED |= {"0": False, "false": False, "no": False, "off": False, "": False}


def _set_env(name: str, raw: str) -> None:  # hypothesis cannot use function-scoped fixtures
    os.environ[f"STRUCTLOGX_{name}"] = raw


@given(
    spelling=st.sampled_from(sorted(_ACCEPTED)),
    upper=st.lists(st.booleans(), min_size=5, max_size=5),
    pad=st.sampled_from(["", " ", "\t", "  "]),
)
def test_env_bool_any_case_and_padding(spelling: str, upper: list[bool], pad: str) -> None:
    raw = pad + "".join(c.upper() if u else c for c, u in zip(spelling, upper, strict=False)) + pad
    try:
        _set_env("EMAIL_USE_TLS", raw)
        assert settings.EMAIL_USE_TLS is _ACCEPTED[spelling]
    finally:
        del os.environ["STRUCTLOGX_EMAIL_USE_TLS"]


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1))
def test_env_bool_rejects_everything_else(raw: str) -> None:
    assume(raw.strip().lower() not in _ACCEPTED)
    try:
        _set_env("EMAIL_USE_TLS", raw)
        with pytest.raises(ValueError, match="is not a boolean"):
            _ = settings.EMAIL_USE_TLS
    finally:
        del os.environ["STRUCTLOGX_EMAIL_USE_TLS"]


_ITEM = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters=",\x00"),
    min_size=1,
).map(str.strip).filter(bool)


@given(items=st.lists(_ITEM, max_size=6), pad=st.sampled_from(["", " ", " , "]))
def test_env_list_round_trip(items: list[str], pad: str) -> None:
    try:
        _set_env("INTERNAL_IPS", pad + f"{pad},{pad}".join(items) + pad)
        ips = settings.INTERNAL_IPS
        assert ips == items
    finally:
        del os.environ["STRUCTLOGX_INTERNAL_IPS"]


# --- precedence --------------------------------------------------------------------------


def test_precedence_across_all_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.EMAIL_PORT == 25  # default
    settings.set_source({"EMAIL_PORT": 1})
    assert settings.EMAIL_PORT == 1  # source beats default
    monkeypatch.setenv("STRUCTLOGX_EMAIL_PORT", "2")
    assert settings.EMAIL_PORT == 2  # env beats source
    settings.configure(EMAIL_PORT=3)
    assert settings.EMAIL_PORT == 3  # configure beats env
    with settings.override(EMAIL_PORT=4):
        assert settings.EMAIL_PORT == 4  # override beats configure
        with settings.override(EMAIL_PORT=5):
            assert settings.EMAIL_PORT == 5  # innermost override wins
        assert settings.EMAIL_PORT == 4
    assert settings.EMAIL_PORT == 3
    settings.reset()
    assert settings.EMAIL_PORT == 2  # reset forgot configure() and the source, not env
    monkeypatch.delenv("STRUCTLOGX_EMAIL_PORT")
    assert settings.EMAIL_PORT == 25


def test_override_of_one_name_leaves_others_to_lower_layers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRUCTLOGX_EMAIL_HOST", "env-host")
    settings.configure(EMAIL_PORT=2525)
    with settings.override(DEBUG=True):
        assert (settings.DEBUG, settings.EMAIL_PORT, settings.EMAIL_HOST) == (
            True,
            2525,
            "env-host",
        )


# --- configure() and assignment -----------------------------------------------------------


def test_configure_sets_and_merges() -> None:
    settings.configure(DEBUG=True, EMAIL_PORT=587)
    settings.configure(EMAIL_HOST="smtp.example.com")
    assert (settings.DEBUG, settings.EMAIL_PORT) == (True, 587)
    assert settings.EMAIL_HOST == "smtp.example.com"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DEBUG", 1, "a bool"),
        ("DEBUG", None, "a bool"),
        ("EMAIL_PORT", True, "an int"),
        ("EMAIL_PORT", "25", "an int"),
        ("EMAIL_PORT", 25.0, "an int"),
        ("EMAIL_TIMEOUT", "3", "a float or int or None"),
        ("EMAIL_TIMEOUT", False, "a float or int or None"),
        ("SERVER_EMAIL", None, "a str"),
        ("EMAIL_FILE_PATH", 3, "a str or None"),
        ("ADMINS", "ops@example.com", "e-mail strings or (name, email) pairs"),
        ("ADMINS", [("Ops",)], "(name, email) pairs"),
        ("ADMINS", [("Ops", 1)], "(name, email) pairs"),
        ("INTERNAL_IPS", [1], "a list or tuple of str"),
        ("INTERNAL_IPS", [("a", "b")], "a list or tuple of str"),
    ],
)
def test_configure_rejects_wrong_types(name: str, value: object, expected: str) -> None:
    with pytest.raises(TypeError, match=rf"^{name} must be .*{re.escape(expected)}") as info:
        settings.configure(**{name: value})
    assert type(value).__name__ in str(info.value)
    assert getattr(settings, name) == EXPECTED_DEFAULTS[name]


def test_configure_normalises_values() -> None:
    admins: list[Any] = ["root@example.com", ["Ops", "ops@example.com"]]
    settings.configure(EMAIL_TIMEOUT=3, ADMINS=admins, INTERNAL_IPS=("10.0.0.1",))
    admins.append("late@example.com")  # the caller's list was copied
    assert settings.EMAIL_TIMEOUT == 3.0
    assert type(settings.EMAIL_TIMEOUT) is float
    assert settings.ADMINS == ["root@example.com", ("Ops", "ops@example.com")]
    assert settings.INTERNAL_IPS == ["10.0.0.1"]
    settings.configure(EMAIL_TIMEOUT=None)
    assert settings.EMAIL_TIMEOUT is None


def test_returned_lists_are_copies() -> None:
    settings.ADMINS.append("x@example.com")
    assert settings.ADMINS == []
    settings.configure(MANAGERS=["m@example.com"])
    settings.MANAGERS.clear()
    assert settings.MANAGERS == ["m@example.com"]


def test_configure_is_all_or_nothing() -> None:
    with pytest.raises(TypeError, match="EMAIL_PORT"):
        settings.configure(DEBUG=True, EMAIL_PORT="587")
    with pytest.raises(AttributeError, match="DEUBG"):
        settings.configure(DEBUG=True, DEUBG=True)
    assert settings.DEBUG is False
    assert settings.EMAIL_PORT == 25


def test_assignment_is_a_validated_configure() -> None:
    settings.DEBUG = True
    assert settings.DEBUG is True
    with pytest.raises(TypeError, match="DEBUG must be a bool"):
        settings.DEBUG = "yes"  # type: ignore[assignment]
    assert settings.DEBUG is True
    settings.reset()  # assignment is forgotten like configure()
    assert settings.DEBUG is False


# --- unknown names ----------------------------------------------------------------------------

SUGGESTION = r"^Unknown setting 'DEUBG'; did you mean 'DEBUG'\?$"


def test_unknown_name_in_configure() -> None:
    with pytest.raises(AttributeError, match=SUGGESTION):
        settings.configure(DEUBG=True)


def test_unknown_name_in_override() -> None:
    with pytest.raises(AttributeError, match=SUGGESTION):
        settings.override(DEUBG=True)


def test_unknown_name_on_read_and_write() -> None:
    with pytest.raises(AttributeError, match=SUGGESTION):
        _ = settings.DEUBG  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match=SUGGESTION):
        settings.DEUBG = True  # type: ignore[attr-defined]
    assert not hasattr(settings, "DEUBG")


def test_unknown_name_suggestions_are_case_insensitive_and_optional() -> None:
    with pytest.raises(AttributeError, match="'email_port'; did you mean 'EMAIL_PORT'"):
        settings.configure(email_port=25)
    with pytest.raises(AttributeError, match=r"^Unknown setting 'XYZZY'$"):
        _ = settings.XYZZY  # type: ignore[attr-defined]


# --- override() -----------------------------------------------------------------------------


def test_override_context_manager_restores_even_on_error() -> None:
    with settings.override(DEBUG=True, EMAIL_PORT=2525) as active:
        assert active is settings
        assert (settings.DEBUG, settings.EMAIL_PORT) == (True, 2525)
    assert (settings.DEBUG, settings.EMAIL_PORT) == (False, 25)
    with pytest.raises(RuntimeError), settings.override(DEBUG=True):
        raise RuntimeError
    assert settings.DEBUG is False


def test_override_nesting_and_reentry() -> None:
    outer = settings.override(DEBUG=True, EMAIL_HOST="outer")
    with outer:
        with settings.override(EMAIL_HOST="inner"):
            assert (settings.DEBUG, settings.EMAIL_HOST) == (True, "inner")
            with outer:  # the same object entered again
                assert settings.EMAIL_HOST == "outer"
            assert settings.EMAIL_HOST == "inner"
        assert settings.EMAIL_HOST == "outer"
    assert (settings.DEBUG, settings.EMAIL_HOST) == (False, "localhost")


def test_override_validates_immediately() -> None:
    with pytest.raises(TypeError, match="EMAIL_PORT must be an int"):
        settings.override(EMAIL_PORT="25")


def test_override_sync_decorator() -> None:
    calls: list[tuple[bool, int]] = []

    @settings.override(DEBUG=True)
    def work(depth: int) -> str:
        calls.append((settings.DEBUG, depth))
        if depth:
            work(depth - 1)  # re-entering the same override unwinds correctly
        return "done"

    assert settings.DEBUG is False  # decorating applies nothing yet
    assert work(1) == "done"
    assert work.__name__ == "work"
    assert calls == [(True, 1), (True, 0)]
    assert settings.DEBUG is False


def test_override_async_decorator() -> None:
    @settings.override(EMAIL_PORT=2525)
    async def work() -> int:
        await asyncio.sleep(0)
        return settings.EMAIL_PORT

    assert asyncio.run(work()) == 2525
    assert settings.EMAIL_PORT == 25


def test_override_async_overlapping_tasks_unwind() -> None:
    order: list[str] = []

    @settings.override(EMAIL_HOST="a")
    async def first(started: asyncio.Event, release: asyncio.Event) -> None:
        started.set()
        await release.wait()  # exits while `second`'s layer, pushed later, is still active
        order.append("first")

    @settings.override(EMAIL_PORT=2)
    async def second(started: asyncio.Event, release: asyncio.Event) -> int:
        await started.wait()
        release.set()
        await asyncio.sleep(0.01)
        order.append("second")
        return settings.EMAIL_PORT

    async def main() -> int:
        started, release = asyncio.Event(), asyncio.Event()
        _, port = await asyncio.gather(first(started, release), second(started, release))
        return port

    assert asyncio.run(main()) == 2
    assert order == ["first", "second"]
    assert (settings.EMAIL_HOST, settings.EMAIL_PORT) == ("localhost", 25)


def test_override_refuses_classes() -> None:
    with pytest.raises(TypeError, match="not classes"):
        settings.override(DEBUG=True)(type("Case", (), {}))


def test_override_is_process_global() -> None:
    seen: list[bool] = []
    with settings.override(DEBUG=True):
        thread = threading.Thread(target=lambda: seen.append(settings.DEBUG))
        thread.start()
        thread.join()
    assert seen == [True]


# --- the read cache -----------------------------------------------------------------------
# A read reuses the value last resolved while the layers, the source and the environment value
# are the same objects: _cached() reads twice, so that the next change meets a cached value.


def _cached(name: str) -> Any:
    first = getattr(settings, name)
    assert getattr(settings, name) == first
    return first


def test_cached_read_sees_env_var_set_changed_and_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cached("EMAIL_PORT") == 25
    monkeypatch.setenv("STRUCTLOGX_EMAIL_PORT", "2525")
    assert _cached("EMAIL_PORT") == 2525
    monkeypatch.setenv("STRUCTLOGX_EMAIL_PORT", "2526")
    assert _cached("EMAIL_PORT") == 2526
    monkeypatch.setenv("STRUCTLOGX_EMAIL_PORT", "2526")  # the same text in a new object
    assert _cached("EMAIL_PORT") == 2526
    monkeypatch.setenv("STRUCTLOGX_EMAIL_PORT", "many")  # an error is raised by every read
    for _ in range(2):
        with pytest.raises(ValueError, match="STRUCTLOGX_EMAIL_PORT='many'"):
            _ = settings.EMAIL_PORT
    monkeypatch.delenv("STRUCTLOGX_EMAIL_PORT")
    assert _cached("EMAIL_PORT") == 25


def test_cached_read_sees_configure_override_and_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cached("EMAIL_HOST") == "localhost"
    settings.configure(EMAIL_HOST="configured")
    assert _cached("EMAIL_HOST") == "configured"
    monkeypatch.setenv("STRUCTLOGX_EMAIL_HOST", "env")  # below configure()
    assert _cached("EMAIL_HOST") == "configured"
    with settings.override(EMAIL_HOST="overridden"):
        assert _cached("EMAIL_HOST") == "overridden"
        with settings.override(DEBUG=True):  # another name: new layers, same value
            assert _cached("EMAIL_HOST") == "overridden"
        assert _cached("EMAIL_HOST") == "overridden"
    assert _cached("EMAIL_HOST") == "configured"
    settings.reset()
    assert _cached("EMAIL_HOST") == "env"
    settings.DEBUG = True  # assignment is a configure()
    assert _cached("EMAIL_HOST") == "env"
    assert _cached("DEBUG") is True


def test_cached_read_sees_set_source_and_changes_inside_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cached("DEBUG") is False
    source = types.SimpleNamespace(DEBUG=True)
    settings.set_source(source)
    assert _cached("DEBUG") is True
    source.DEBUG = False  # values from a source are not cached: it may change underneath
    assert settings.DEBUG is False
    monkeypatch.setenv("STRUCTLOGX_DEBUG", "1")  # the environment beats the source
    assert _cached("DEBUG") is True
    settings.set_source({"DEBUG": False})
    assert _cached("DEBUG") is True
    monkeypatch.delenv("STRUCTLOGX_DEBUG")
    assert _cached("DEBUG") is False
    settings.set_source({"DEBUG": True})
    assert _cached("DEBUG") is True
    settings.set_source(None)
    assert _cached("DEBUG") is False


def test_cached_read_sees_a_replaced_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.environ
    assert _cached("EMAIL_PORT") == 25
    monkeypatch.setattr(os, "environ", {"STRUCTLOGX_EMAIL_PORT": "2525"})
    assert _cached("EMAIL_PORT") == 2525
    monkeypatch.setattr(os, "environ", real)
    assert _cached("EMAIL_PORT") == 25


def test_cached_read_sees_layers_restored_directly() -> None:
    state = settings._state  # as tests/test_docs_examples.py restores them
    saved = state.layers
    assert _cached("EMAIL_PORT") == 25
    settings.configure(EMAIL_PORT=1)
    assert _cached("EMAIL_PORT") == 1
    with state.lock:
        state.layers = saved
    assert _cached("EMAIL_PORT") == 25


def test_cached_lists_are_handed_out_as_new_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRUCTLOGX_INTERNAL_IPS", "10.0.0.1")
    settings.configure(ADMINS=["ops@example.com"])
    for name, expected in [("ADMINS", ["ops@example.com"]), ("INTERNAL_IPS", ["10.0.0.1"])]:
        first, second = getattr(settings, name), getattr(settings, name)
        assert first == second == expected
        assert first is not second
        first.append("changed")
        assert getattr(settings, name) == expected
    assert settings.MANAGERS is not settings.MANAGERS  # the default too


def test_cached_reads_of_two_instances_do_not_mix() -> None:
    other = Settings()
    other.configure(EMAIL_PORT=1)
    for _ in range(3):
        assert (settings.EMAIL_PORT, other.EMAIL_PORT) == (25, 1)


def test_concurrent_reads_while_writing_see_only_real_values() -> None:
    seen: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(settings.EMAIL_PORT)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    readers = [threading.Thread(target=read) for _ in range(3)]
    try:
        for reader in readers:
            reader.start()
        for _ in range(300):
            with settings.override(EMAIL_PORT=2):
                settings.configure(EMAIL_PORT=3)
            settings.reset()
    finally:
        stop.set()
        for reader in readers:
            reader.join()
        sys.setswitchinterval(interval)
    assert seen <= {2, 3, 25}
    assert settings.EMAIL_PORT == 25


# --- source -------------------------------------------------------------------------------


def test_source_object_and_fall_through() -> None:
    settings.set_source(types.SimpleNamespace(DEBUG=True, ADMINS=(("Ops", "ops@example.com"),)))
    assert settings.DEBUG is True
    assert settings.ADMINS == [("Ops", "ops@example.com")]
    assert settings.EMAIL_PORT == 25  # missing from the source: default
    settings.set_source(None)
    assert settings.DEBUG is False


def test_source_mapping_and_fall_through(monkeypatch: pytest.MonkeyPatch) -> None:
    settings.set_source({"EMAIL_HOST": "mapped", "EMAIL_TIMEOUT": 5})
    assert settings.EMAIL_HOST == "mapped"
    assert settings.EMAIL_TIMEOUT == 5.0
    assert settings.EMAIL_PORT == 25
    monkeypatch.setenv("STRUCTLOGX_EMAIL_HOST", "from-env")
    assert settings.EMAIL_HOST == "from-env"


def test_source_is_read_at_use_time() -> None:
    source = types.SimpleNamespace(DEBUG=False)
    settings.set_source(source)
    assert settings.DEBUG is False
    source.DEBUG = True
    assert settings.DEBUG is True


def test_source_errors_propagate_and_values_are_checked() -> None:
    class Broken:
        @property
        def DEBUG(self) -> bool:
            raise RuntimeError("settings are not configured")

    settings.set_source(Broken())
    with pytest.raises(RuntimeError, match="not configured"):
        _ = settings.DEBUG
    assert settings.EMAIL_PORT == 25  # AttributeError from a plain missing name falls through
    settings.set_source({"EMAIL_PORT": "25"})
    with pytest.raises(TypeError, match=r"EMAIL_PORT \(from the settings source\) must be"):
        _ = settings.EMAIL_PORT


def test_reset_forgets_configure_and_source_but_not_overrides() -> None:
    settings.configure(DEBUG=True)
    settings.set_source({"EMAIL_HOST": "src"})
    with settings.override(EMAIL_PORT=1):
        settings.reset()
        assert (settings.DEBUG, settings.EMAIL_HOST, settings.EMAIL_PORT) == (
            False,
            "localhost",
            1,
        )
    assert settings.as_dict() == EXPECTED_DEFAULTS


def test_setting_descriptor_repr() -> None:
    assert repr(Settings.EMAIL_PORT) == "Setting(25, 'int')"
    assert isinstance(Settings.DEBUG, Setting)
