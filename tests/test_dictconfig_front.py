"""Tests for structlogx.dictconfig: DEFAULT_LOGGING, configure(), validate(), load_config().

Every test runs against the real global logging state, snapshotted and restored around it.
The configurations are the examples of Django's logging guide, written for structlogx.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import logging.config
import os
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from configs import django_settings
from configs.config_helpers import (
    LoggingState,
    RecordingHandler,
    UnreadablePostError,
    handler_named,
)

import structlogx.mail
from structlogx.conf import settings
from structlogx.dictconfig import (
    DEFAULT_LOGGING,
    ConfigError,
    Problem,
    configure,
    default_logging,
    interpolate_env,
    load_config,
    validate,
)

CONFIGS = Path(__file__).resolve().parent / "configs"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    state = LoggingState()
    yield
    state.restore()


def problems_of(config: object) -> list[tuple[str, str]]:
    """Return validate()'s problems as (path, message) pairs; [] when there are none."""
    try:
        validate(config)
    except ConfigError as exc:
        return [(problem.path, problem.message) for problem in exc.problems]
    return []


def paths_of(config: object) -> list[str]:
    return [path for path, _ in problems_of(config)]


def minimal(**sections: Any) -> dict[str, Any]:
    return {"version": 1, "disable_existing_loggers": False, **sections}


# --- The examples of the Django guide -------------------------------------------------------

CONSOLE_ONLY = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
        },
    },
    "root": {
        "handlers": ["console"],
        "level": "WARNING",
    },
}


def named_logger_config() -> dict[str, Any]:
    """The named-logger example as a Python dict, reading the environment when called."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"console": {"class": "logging.StreamHandler"}},
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "django": {
                "handlers": ["console"],
                "level": os.getenv("DJANGO_LOG_LEVEL", "INFO"),
                "propagate": False,
            },
        },
    }


def file_config(path: Path) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "file": {"level": "DEBUG", "class": "logging.FileHandler", "filename": str(path)},
        },
        "loggers": {
            "django": {"handlers": ["file"], "level": "DEBUG", "propagate": True},
        },
    }


COMPLEX = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "verbose": {
            "format": "{levelname} {asctime} {module} {process:d} {thread:d} {message}",
            "style": "{",
        },
        "simple": {
            "format": "{levelname} {message}",
            "style": "{",
        },
    },
    "filters": {
        "special": {
            "()": "configs.config_helpers.SpecialFilter",
            "foo": "bar",
        },
        "require_debug_true": {
            "()": "structlogx.filters.RequireDebugTrue",
        },
    },
    "handlers": {
        "console": {
            "level": "INFO",
            "filters": ["require_debug_true"],
            "class": "logging.StreamHandler",
            "formatter": "simple",
        },
        "mail_admins": {
            "level": "ERROR",
            "class": "structlogx.handlers.AdminEmailHandler",
            "filters": ["special"],
            # Test settings, not the seed's: mail into structlogx.mail.outbox, before
            # logger.error() returns.
            "email_backend": "structlogx.mail.backends.MemoryBackend",
            "blocking": True,
        },
    },
    "loggers": {
        "django": {
            "handlers": ["console"],
            "propagate": True,
        },
        "django.request": {
            "handlers": ["mail_admins"],
            "level": "ERROR",
            "propagate": False,
        },
        "myproject.custom": {
            "handlers": ["console", "mail_admins"],
            "level": "INFO",
            "filters": ["special"],
        },
    },
}


def mailed() -> list[str]:
    """The subjects of the mails sent so far, without the subject prefix."""
    prefix = settings.EMAIL_SUBJECT_PREFIX
    return [str(message["Subject"]).removeprefix(prefix) for message in structlogx.mail.outbox]


@pytest.fixture(autouse=True)
def _admins() -> Iterator[None]:
    structlogx.mail.outbox.clear()
    with settings.override(ADMINS=["admin@example.com"]):
        yield
    structlogx.mail.outbox.clear()


def test_console_only_example(capsys: pytest.CaptureFixture[str]) -> None:
    validate(CONSOLE_ONLY)
    configure(CONSOLE_ONLY)
    logging.getLogger("shop.payments").info("not shown: below WARNING")
    logging.getLogger("shop.payments").warning("Payment provider slow")
    assert capsys.readouterr().err == "Payment provider slow\n"


def test_named_logger_example_defaults_to_info(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DJANGO_LOG_LEVEL", raising=False)
    from_file = load_config(CONFIGS / "django_env.json")
    assert from_file == named_logger_config()
    configure(from_file)
    django = logging.getLogger("django")
    assert django.level == logging.INFO
    django.getChild("request").info("GET /orders/ 200")
    django.debug("not shown")
    # propagate: false, so the root's console does not print it a second time
    assert capsys.readouterr().err == "GET /orders/ 200\n"


def test_named_logger_example_level_from_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_LOG_LEVEL", "DEBUG")
    from_file = load_config(CONFIGS / "django_env.json")
    as_python = named_logger_config()
    assert from_file == as_python
    assert from_file["loggers"]["django"]["level"] == "DEBUG"
    configure(as_python)
    logging.getLogger("django.db.backends").debug("(0.001) SELECT 1")
    assert capsys.readouterr().err == "(0.001) SELECT 1\n"


def test_named_logger_example_from_a_settings_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DJANGO_LOG_LEVEL", raising=False)
    loaded = load_config("configs.django_settings:LOGGING")
    assert loaded is django_settings.LOGGING
    configure(loaded)
    assert logging.getLogger("django").handlers[0].name == "console"


def test_file_handler_example(tmp_path: Path) -> None:
    config = file_config(tmp_path / "debug.log")
    validate(config)
    configure(config)
    logging.getLogger("django.db.backends").debug("(0.002) SELECT 2")
    logging.getLogger("shop").warning("not a django record")
    assert (tmp_path / "debug.log").read_text(encoding="utf-8") == "(0.002) SELECT 2\n"


def test_file_handler_example_from_json_with_a_directory_variable(tmp_path: Path) -> None:
    config = load_config(
        CONFIGS / "file_handler.json", environ={"STRUCTLOGX_TEST_LOG_DIR": str(tmp_path)}
    )
    assert config == file_config(Path(f"{tmp_path}/debug.log"))
    configure(config)
    logging.getLogger("django").info("started")
    assert (tmp_path / "debug.log").read_text(encoding="utf-8") == "started\n"


def test_complex_example_json_file_and_dict_agree() -> None:
    assert load_config(CONFIGS / "complex.json") == COMPLEX


def test_complex_example_in_production(capsys: pytest.CaptureFixture[str]) -> None:
    validate(COMPLEX)
    with settings.override(DEBUG=False):
        configure(COMPLEX)
        logging.getLogger("django").warning("console is for DEBUG only")
        logging.getLogger("django.request").warning("below mail_admins' ERROR")
        logging.getLogger("django.request").error("Internal Server Error: /checkout/")
        logging.getLogger("myproject.custom").info("console is for DEBUG only")
        logging.getLogger("myproject.custom").error("Stock below zero")
        logging.getLogger("myproject.custom").error("dropped", extra={"quiet": True})
    assert capsys.readouterr().err == ""
    assert mailed() == ["ERROR: Internal Server Error: /checkout/", "ERROR: Stock below zero"]


def test_complex_example_in_development(capsys: pytest.CaptureFixture[str]) -> None:
    logging.root.setLevel(logging.WARNING)  # the level the example's "django" logger inherits
    with settings.override(DEBUG=True):
        configure(COMPLEX)
        logging.getLogger("django.template").warning("Missing variable 'user'")
        logging.getLogger("myproject.custom").info("Imported 12 products")
        logging.getLogger("myproject.custom").info("dropped", extra={"quiet": True})
        logging.getLogger("django.request").error("Internal Server Error: /")
    # django.request does not propagate, so the console only shows the first two
    assert capsys.readouterr().err == (
        "WARNING Missing variable 'user'\nINFO Imported 12 products\n"
    )
    assert mailed() == ["ERROR: Internal Server Error: /"]


def test_complex_example_without_a_level_inherits_the_roots(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Unlike Django, structlogx's defaults do not configure a "django" logger, so the
    # example's "django" logger (no level) takes the root logger's level.
    logging.root.setLevel(logging.WARNING)
    with settings.override(DEBUG=True):
        configure(COMPLEX)
        logging.getLogger("django").info("not shown")
    assert logging.getLogger("django").getEffectiveLevel() == logging.WARNING
    assert capsys.readouterr().err == ""


def test_silencing_one_security_logger_example(capsys: pytest.CaptureFixture[str]) -> None:
    config = minimal(
        handlers={
            "console": {"class": "logging.StreamHandler"},
            "null": {"class": "logging.NullHandler"},
        },
        loggers={
            "django": {"handlers": ["console"], "level": "INFO"},
            "django.security.DisallowedHost": {"handlers": ["null"], "propagate": False},
        },
    )
    validate(config)
    configure(config)
    logging.getLogger("django.security.DisallowedHost").error("Invalid HTTP_HOST header")
    logging.getLogger("django.security.csrf").warning("Forbidden (CSRF token missing)")
    assert capsys.readouterr().err == "Forbidden (CSRF token missing)\n"


def test_require_debug_false_example() -> None:
    config = minimal(
        filters={"require_debug_false": {"()": "structlogx.filters.RequireDebugFalse"}},
        handlers={
            "mail_admins": {
                "level": "ERROR",
                "filters": ["require_debug_false"],
                "class": "structlogx.handlers.AdminEmailHandler",
                "email_backend": "structlogx.mail.backends.MemoryBackend",  # as above
                "blocking": True,
            },
        },
        loggers={"django": {"handlers": ["mail_admins"]}},
    )
    configure(config)
    with settings.override(DEBUG=True):
        logging.getLogger("django").error("in development: no mail")
    with settings.override(DEBUG=False):
        logging.getLogger("django").error("in production: mailed")
    assert mailed() == ["ERROR: in production: mailed"]


def test_callback_filter_example() -> None:
    config = minimal(
        filters={
            "skip_unreadable_posts": {
                "()": "structlogx.filters.CallbackFilter",
                "callback": "ext://configs.config_helpers.skip_unreadable_post",
            },
        },
        handlers={
            "mail_admins": {
                "level": "ERROR",
                "filters": ["skip_unreadable_posts"],
                "class": "structlogx.handlers.AdminEmailHandler",
                "email_backend": "structlogx.mail.backends.MemoryBackend",  # as above
                "blocking": True,
            },
        },
        loggers={"django.request": {"handlers": ["mail_admins"], "propagate": False}},
    )
    validate(config)
    configure(config)
    logger = logging.getLogger("django.request")
    for error in (UnreadablePostError("client went away"), KeyError("basket")):
        try:
            raise error
        except Exception:
            logger.exception("Internal Server Error: /upload/")
    assert mailed() == ["ERROR: Internal Server Error: /upload/"]
    (message,) = structlogx.mail.outbox
    body = message.get_body(("plain",))
    assert body is not None
    assert "KeyError" in body.get_content()
    assert "UnreadablePostError" not in body.get_content()


# --- DEFAULT_LOGGING --------------------------------------------------------------------------


def test_default_logging_is_plain_json() -> None:
    assert json.loads(json.dumps(DEFAULT_LOGGING)) == DEFAULT_LOGGING
    assert DEFAULT_LOGGING["handlers"]["mail_admins"] == {
        "class": "structlogx.handlers.AdminEmailHandler",
        "level": "ERROR",
        "filters": ["require_debug_false"],
    }
    validate(DEFAULT_LOGGING)


def test_default_logging_mails_structlogx_errors_only_in_production() -> None:
    config = default_logging()
    config["handlers"]["mail_admins"].update(
        email_backend="structlogx.mail.backends.MemoryBackend", blocking=True
    )
    configure(None, defaults=config)
    logger = logging.getLogger("structlogx.audit.sqlite")
    with settings.override(DEBUG=True):
        logger.error("in development: on the console, not mailed")
    with settings.override(DEBUG=False):
        logger.warning("below ERROR: not mailed")
        logger.error("in production: mailed")
    assert mailed() == ["ERROR: in production: mailed"]


def test_default_logging_copy_is_fresh() -> None:
    copied = default_logging()
    assert copied == DEFAULT_LOGGING
    copied["loggers"]["structlogx"]["level"] = "DEBUG"
    assert DEFAULT_LOGGING["loggers"]["structlogx"]["level"] == "INFO"


def test_defaults_show_structlogx_records_only_in_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = copy.deepcopy(DEFAULT_LOGGING)
    configure(None)
    assert before == DEFAULT_LOGGING  # applying the defaults does not change them
    library = logging.getLogger("structlogx.audit")
    with settings.override(DEBUG=True):
        library.info("shown in development")
        library.debug("below INFO")
    with settings.override(DEBUG=False):
        library.error("not on the console in production")
    assert capsys.readouterr().err == "shown in development\n"
    assert logging.getLogger("structlogx").level == logging.INFO
    assert logging.getLogger("structlogx").propagate is True


def test_defaults_reach_the_users_root_handlers_in_production() -> None:
    config = minimal(
        handlers={"ops": {"class": "configs.config_helpers.RecordingHandler"}},
        root={"handlers": ["ops"], "level": "WARNING"},
    )
    with settings.override(DEBUG=False):
        configure(config)
        logging.getLogger("structlogx.audit").warning("store unreachable; spooling")
    ops = handler_named("ops")
    assert isinstance(ops, RecordingHandler)
    assert [record.getMessage() for record in ops.records] == ["store unreachable; spooling"]


def test_disable_existing_loggers_true_silences_the_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure({**CONSOLE_ONLY, "disable_existing_loggers": True})
    library = logging.getLogger("structlogx")
    assert library.disabled  # the trap: it drops records, even for the root's handlers
    with settings.override(DEBUG=True):
        library.error("lost")
    assert capsys.readouterr().err == ""


def test_user_settings_can_redefine_the_default_logger() -> None:
    configure(minimal(loggers={"structlogx": {"handlers": [], "level": "ERROR"}}))
    library = logging.getLogger("structlogx")
    assert (library.level, library.handlers, library.disabled) == (logging.ERROR, [], False)


def test_other_defaults_or_none() -> None:
    configure(CONSOLE_ONLY, defaults=None)
    assert logging.getLogger("structlogx").handlers == []
    mine = minimal(loggers={"mine": {"level": "DEBUG"}})
    configure(None, defaults=mine)
    assert logging.getLogger("mine").level == logging.DEBUG


# --- configure(): Django's configure_logging semantics ----------------------------------------


@pytest.mark.parametrize("falsy", [None, "", False])
def test_falsy_logging_config_does_nothing_at_all(falsy: Any) -> None:
    before = LoggingState().describe()
    configure(CONSOLE_ONLY, falsy)
    configure({"not": "even validated"}, falsy)
    assert LoggingState().describe() == before
    assert logging.getLogger("structlogx").handlers == []


@pytest.mark.parametrize("bad_path", ["logging.config.dictConfg", "nope_module.configure"])
def test_bad_logging_config_path_raises_before_anything_changes(bad_path: str) -> None:
    before = LoggingState().describe()
    with pytest.raises(ImportError, match=bad_path.rpartition(".")[0]):
        configure(CONSOLE_ONLY, bad_path)
    assert LoggingState().describe() == before


def test_logging_config_that_is_not_callable() -> None:
    before = LoggingState().describe()
    with pytest.raises(TypeError, match="callable"):
        configure(CONSOLE_ONLY, "logging.DEBUG")
    assert LoggingState().describe() == before


def test_bad_user_config_raises_before_the_defaults_are_applied() -> None:
    before = LoggingState().describe()
    bad = minimal(handlers={"console": {"class": "logging.StreamHandler", "formatter": "jsn"}})
    with pytest.raises(ConfigError) as caught:
        configure(bad)
    assert caught.value.problems == [
        Problem("handlers.console.formatter", "'jsn' is not defined; there are no formatters")
    ]
    assert LoggingState().describe() == before
    assert logging.getLogger("structlogx").handlers == []


def test_bad_defaults_raise_before_anything_changes() -> None:
    before = LoggingState().describe()
    with pytest.raises(ConfigError, match=r"loggers\.structlogx\.level: unknown level 'INF'"):
        configure(CONSOLE_ONLY, defaults=minimal(loggers={"structlogx": {"level": "INF"}}))
    assert LoggingState().describe() == before


def test_callable_runs_after_the_defaults_with_the_settings_as_given() -> None:
    seen: list[tuple[object, list[logging.Handler]]] = []

    def apply(settings_object: object) -> None:
        seen.append((settings_object, list(logging.getLogger("structlogx").handlers)))

    token = object()  # not a dict: only dictConfig's settings are validated
    configure(token, apply)
    ((received, handlers_then),) = seen
    assert received is token
    assert [handler.name for handler in handlers_then] == ["console", "mail_admins"]


@pytest.mark.parametrize("falsy_settings", [None, {}])
def test_falsy_settings_apply_only_the_defaults(falsy_settings: Any) -> None:
    calls: list[object] = []
    configure(falsy_settings, calls.append)
    assert calls == []
    names = [handler.name for handler in logging.getLogger("structlogx").handlers]
    assert names == ["console", "mail_admins"]


def test_logging_config_as_module_colon_name() -> None:
    configure(CONSOLE_ONLY, "logging.config:dictConfig")
    assert logging.root.level == logging.WARNING
    assert [handler.name for handler in logging.root.handlers if handler.name] == ["console"]


def test_file_config_with_an_ini_file(capsys: pytest.CaptureFixture[str]) -> None:
    configure(str(CONFIGS / "logging.ini"), "logging.config.fileConfig")
    logging.getLogger("inifile").info("from the INI file")
    assert capsys.readouterr().err == "INFO inifile from the INI file\n"
    # fileConfig's own default, disable_existing_loggers=True, disables the defaults' logger
    assert logging.getLogger("structlogx").disabled


def test_file_config_keeping_existing_loggers(capsys: pytest.CaptureFixture[str]) -> None:
    keep = functools.partial(logging.config.fileConfig, disable_existing_loggers=False)
    configure(CONFIGS / "logging.ini", keep)
    assert not logging.getLogger("structlogx").disabled
    with settings.override(DEBUG=True):
        logging.getLogger("structlogx").info("still here")
    logging.getLogger("inifile").warning("and the INI logger")
    assert capsys.readouterr().err == "still here\nWARNING inifile and the INI logger\n"


# --- validate() -------------------------------------------------------------------------------


def test_five_mistakes_in_one_error() -> None:
    config = json.loads((CONFIGS / "five_mistakes.json").read_text(encoding="utf-8"))
    with pytest.raises(ConfigError) as caught:
        validate(config)
    problems = caught.value.problems
    assert [problem.path for problem in problems] == [
        "version",
        "formatters.json.schemaa",
        "handlers.console.formatter",
        "handlers.audit.class",
        "loggers.shop.level",
    ]
    assert str(caught.value).splitlines() == [str(problem) for problem in problems]
    assert (
        str(problems[2]) == "handlers.console.formatter: 'jsn' is not defined; did you mean 'json'?"
    )


def test_config_error_is_a_value_error_and_pickles() -> None:
    error = ConfigError([Problem("version", "missing"), Problem("", "must be a dict")])
    assert isinstance(error, ValueError)
    assert str(error) == "version: missing\n<config>: must be a dict"
    copied = pickle.loads(pickle.dumps(error))
    assert copied.problems == error.problems


def test_valid_configs_pass() -> None:
    for config in (CONSOLE_ONLY, COMPLEX, named_logger_config(), minimal(), {"version": 1}):
        assert problems_of(config) == []


def test_undefined_formatter_with_suggestion() -> None:
    config = minimal(
        formatters={"json": {"()": "structlogx.formatters.JSONFormatter"}},
        handlers={"console": {"class": "logging.StreamHandler", "formatter": "jsn"}},
    )
    assert problems_of(config) == [
        ("handlers.console.formatter", "'jsn' is not defined; did you mean 'json'?")
    ]


def test_undefined_filter_references() -> None:
    config = minimal(
        filters={"require_debug_false": {"()": "structlogx.filters.ContextFilter"}},
        handlers={
            "console": {"class": "logging.StreamHandler", "filters": ["require_debug_flase"]}
        },
        loggers={"shop": {"filters": ["special"]}},
        root={"filters": ["require_debug_false", "context"]},
    )
    assert problems_of(config) == [
        (
            "handlers.console.filters[0]",
            "'require_debug_flase' is not defined; did you mean 'require_debug_false'?",
        ),
        (
            "loggers.shop.filters[0]",
            "'special' is not defined; the filters are 'require_debug_false'",
        ),
        ("root.filters[1]", "'context' is not defined; the filters are 'require_debug_false'"),
    ]


def test_undefined_handler_references_in_loggers_root_and_targets() -> None:
    config = minimal(
        handlers={
            "mail_admins": {"class": "logging.NullHandler"},
            "buffer": {
                "class": "logging.handlers.MemoryHandler",
                "capacity": 100,
                "target": "mail_admin",
            },
            "loop": {"class": "logging.handlers.MemoryHandler", "capacity": 1, "target": "loop"},
        },
        loggers={"django.request": {"handlers": ["mail_admin"]}},
        root={"handlers": ["console"]},
    )
    assert problems_of(config) == [
        ("handlers.buffer.target", "'mail_admin' is not defined; did you mean 'mail_admins'?"),
        ("handlers.loop.target", "a handler cannot be its own target"),
        (
            "loggers['django.request'].handlers[0]",
            "'mail_admin' is not defined; did you mean 'mail_admins'?",
        ),
        (
            "root.handlers[0]",
            "'console' is not defined; the handlers are 'mail_admins', 'buffer', 'loop'",
        ),
    ]


def test_a_string_where_a_list_of_names_belongs() -> None:
    config = minimal(
        handlers={"console": {"class": "logging.StreamHandler"}},
        root={"handlers": "console"},
    )
    assert problems_of(config) == [
        ("root.handlers", "must be a list of names, got str 'console'; write ['console']")
    ]


def test_unimportable_class_with_the_import_error() -> None:
    config = minimal(
        formatters={"x": {"()": "structlogx.formatters.JSONFormater"}},
        filters={"y": {"()": "nope_package.filters.Special"}},
        handlers={"z": {"class": "logging.handlers.RotatingFileHandlr"}},
    )
    assert problems_of(config) == [
        (
            "formatters.x['()']",
            "cannot import 'structlogx.formatters.JSONFormater': 'structlogx.formatters' has no"
            " attribute 'JSONFormater'; did you mean 'JSONFormatter'?",
        ),
        (
            "filters.y['()']",
            "cannot import 'nope_package.filters.Special': No module named 'nope_package'",
        ),
        (
            "handlers.z.class",
            "cannot import 'logging.handlers.RotatingFileHandlr': 'logging.handlers' has no"
            " attribute 'RotatingFileHandlr'; did you mean 'RotatingFileHandler'?",
        ),
    ]


def test_import_error_raised_inside_the_imported_module(tmp_path: Path) -> None:
    (tmp_path / "broken_logging_module.py").write_text("import nope_dependency\n", encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        problems = problems_of(minimal(handlers={"h": {"class": "broken_logging_module.H"}}))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("broken_logging_module", None)
    assert problems == [
        (
            "handlers.h.class",
            "cannot import 'broken_logging_module.H': No module named 'nope_dependency'",
        )
    ]


def test_class_that_is_not_a_handler() -> None:
    config = minimal(handlers={"h": {"class": "logging.Formatter"}, "i": {"level": "INFO"}})
    assert problems_of(config) == [
        ("handlers.h.class", "logging.Formatter is not a logging.Handler"),
        ("handlers.i", 'needs "class" (a logging.Handler subclass) or "()" (a factory)'),
    ]


def test_unknown_levels() -> None:
    config = minimal(
        handlers={"console": {"class": "logging.StreamHandler", "level": "info"}},
        loggers={
            "a": {"level": "WARNNING"},
            "b": {"level": "VERBOSE"},
            "c": {"level": "10"},
            "d": {"level": 1.5},
        },
        root={"level": "DEBUG"},
    )
    assert problems_of(config) == [
        (
            "handlers.console.level",
            "unknown level 'info'; did you mean 'INFO'? (level names are case-sensitive)",
        ),
        ("loggers.a.level", "unknown level 'WARNNING'; did you mean 'WARNING'?"),
        (
            "loggers.b.level",
            "unknown level 'VERBOSE'; known: NOTSET, DEBUG, INFO, WARN, WARNING, ERROR,"
            " CRITICAL, FATAL",
        ),
        ("loggers.c.level", "unknown level '10'; did you mean the number 10?"),
        ("loggers.d.level", "must be a level name such as 'INFO' or a number, got float 1.5"),
    ]


def test_levels_accepted_as_stdlib_does() -> None:
    loggers = {name: {"level": level} for name, level in [("a", "WARN"), ("b", 15), ("c", "FATAL")]}
    assert problems_of(minimal(loggers=loggers)) == []


def test_custom_level_names_are_known_once_added(monkeypatch: pytest.MonkeyPatch) -> None:
    config = minimal(loggers={"a": {"level": "TRACE_FRONT"}})
    assert paths_of(config) == ["loggers.a.level"]
    # addLevelName changes these module-level tables in place: give it copies to change
    monkeypatch.setattr(logging, "_nameToLevel", dict(logging._nameToLevel))
    monkeypatch.setattr(logging, "_levelToName", dict(logging._levelToName))
    logging.addLevelName(7, "TRACE_FRONT")
    assert problems_of(config) == []


def test_unknown_keyword_of_a_structlogx_class() -> None:
    config = minimal(
        formatters={
            "json": {"()": "structlogx.formatters.JSONFormatter", "schemaa": "ecs"},
            "logfmt": {"()": "structlogx.formatters.LogfmtFormatter", "format": "%(message)s"},
        },
        filters={"context": {"()": "structlogx.filters.ContextFilter", "as_attribute": True}},
    )
    assert problems_of(config) == [
        (
            "formatters.json.schemaa",
            "unknown argument 'schemaa' for structlogx.formatters.JSONFormatter;"
            " did you mean 'schema'?",
        ),
        (
            "filters.context.as_attribute",
            "unknown argument 'as_attribute' for structlogx.filters.ContextFilter;"
            " did you mean 'as_attributes'?",
        ),
    ]


def test_missing_argument_of_a_structlogx_factory() -> None:
    config = minimal(filters={"odd": {"()": "structlogx.jsonsafe.safe_repr"}})
    assert problems_of(config) == [
        ("filters.odd", "missing argument 'value' for structlogx.jsonsafe.safe_repr")
    ]


def test_arguments_of_other_classes_are_left_to_them() -> None:
    config = minimal(handlers={"h": {"class": "logging.StreamHandler", "colour": True}})
    assert problems_of(config) == []


def test_keys_dictconfig_would_silently_ignore() -> None:
    config = minimal(
        formatters={
            "json": {"class": "structlogx.formatters.JSONFormatter", "schema": "ecs"},
            "plain": {"format": "%(message)s", "datefmt": "%H:%M", "colour": "red"},
        },
        filters={"debug": {"class": "structlogx.filters.ContextFilter"}},
        handlers={"h": {"class": "logging.StreamHandler", "include-html": True}},
        loggers={"shop": {"propogate": False}},
        formaters={},
    )
    assert problems_of(config) == [
        ("formaters", "unknown key, ignored; did you mean 'formatters'?"),
        (
            "formatters.json.schema",
            'ignored: a formatter with "class" takes only format, datefmt, style, validate and'
            " defaults; build it with \"()\" to pass 'schema'",
        ),
        (
            "formatters.plain.colour",
            'ignored: a formatter without "()" takes only format, datefmt, style, validate and'
            " defaults; build it with \"()\" to pass 'colour'",
        ),
        (
            "filters.debug.class",
            'ignored: filters are built with "()", not "class"; as written this is a plain'
            " logging.Filter that passes every record",
        ),
        ("handlers.h.include-html", "not a valid argument name; dictConfig ignores it"),
        ("loggers.shop.propogate", "unknown key, ignored; did you mean 'propagate'?"),
    ]


def test_style_and_format() -> None:
    config = minimal(
        formatters={
            "a": {"format": "{levelname} {message}", "style": "{"},
            "b": {"format": "%(levelname)s %(message)s", "style": "{"},
            "c": {"format": "{message}", "style": "f"},
            "d": {"format": "%(message)s %s", "validate": False},
        }
    )
    assert problems_of(config) == [
        ("formatters.b.format", "invalid format: no fields (style '{')"),
        ("formatters.c.style", "must be '%', '{' or '$', got str 'f'"),
    ]


def test_booleans_that_are_strings() -> None:
    config = {
        "version": 1,
        "disable_existing_loggers": "false",
        "loggers": {"shop": {"propagate": "false"}, "ok": {"propagate": False}},
    }
    assert problems_of(config) == [
        (
            "disable_existing_loggers",
            "must be true or false, got str 'false' (a non-empty string counts as true)",
        ),
        (
            "loggers.shop.propagate",
            "must be true or false, got str 'false' (a non-empty string counts as true)",
        ),
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, 'missing; add "version": 1 (the only dictConfig version)'),
        ({"version": 2}, "must be the integer 1, got int 2"),
        ({"version": "1"}, "must be the integer 1, got str '1'"),
        ({"version": True}, "must be the integer 1, got True"),
    ],
)
def test_missing_or_wrong_version(config: dict[str, Any], message: str) -> None:
    assert problems_of(config) == [("version", message)]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (None, [("", "must be a dict, got None")]),
        (["version", 1], [("", "must be a dict, got list ['version', 1]")]),
        (
            {"version": 1, "handlers": ["console"], "root": "console"},
            [
                ("handlers", "must be a dict of name: settings, got list ['console']"),
                ("root", "must be a dict, got str 'console'"),
            ],
        ),
        (
            {"version": 1, "formatters": {"a": None}, "loggers": {"b": "DEBUG", 3: {}}},
            [
                ("formatters.a", "must be a dict of settings, got None"),
                ("loggers.b", "must be a dict of settings, got str 'DEBUG'"),
            ],
        ),
        (
            {"version": 1, "handlers": {"h": {"()": 42, "filters": [None]}}},
            [
                ("handlers.h.filters[0]", "must be the name of one of the filters, got None"),
                (
                    "handlers.h['()']",
                    "must be a dotted path such as 'logging.StreamHandler', got int 42",
                ),
            ],
        ),
    ],
)
def test_weird_input_is_a_problem_not_a_crash(
    config: object, expected: list[tuple[str, str]]
) -> None:
    assert problems_of(config) == expected


def test_incremental_configs_only_check_levels() -> None:
    config = {
        "version": 1,
        "incremental": True,
        "handlers": {"console": {"level": "DEBG", "class": "nope.Handler", "formatter": "x"}},
        "loggers": {"shop": {"level": "info", "handlers": ["undefined"]}},
        "root": {"level": "ERROR"},
    }
    assert paths_of(config) == ["handlers.console.level", "loggers.shop.level"]


def test_cfg_and_ext_references() -> None:
    config = minimal(
        service={"stream": "ext://sys.stdout"},
        formatters={
            "json": {
                "()": "structlogx.formatters.JSONFormatter",
                "static_fields": {"service": "cfg://service.name"},
            }
        },
        handlers={
            "out": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
            "err": {"class": "ext://logging.StreamHandler", "stream": "cfg://service.stream"},
            "typo": {"class": "logging.StreamHandler", "stream": "ext://sys.stdot"},
        },
    )
    assert problems_of(config) == [
        (
            "handlers.typo.stream",
            "cannot import 'ext://sys.stdot': 'sys' has no attribute 'stdot';"
            " did you mean 'stdout'?",
        )
    ]


def test_python_objects_in_a_dict_config() -> None:
    config = minimal(
        filters={"special": {"()": logging.Filter, "name": "shop"}},
        handlers={"h": {"()": logging.NullHandler, "filters": ["special"]}},
    )
    assert problems_of(config) == []


def test_validate_changes_no_logging_state() -> None:
    before = LoggingState().describe()
    validate(COMPLEX)
    assert LoggingState().describe() == before


# --- load_config() and interpolate_env() ------------------------------------------------------


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is Python 3.11+")
def test_load_toml() -> None:
    assert load_config(CONFIGS / "complex.toml") == COMPLEX


@pytest.mark.skipif(sys.version_info >= (3, 11), reason="only Python 3.10 lacks tomllib")
def test_load_toml_on_python_3_10_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match=r"Python 3\.11 or later .* as JSON instead"):
        load_config(CONFIGS / "complex.toml")


def test_load_json_path_as_str() -> None:
    assert load_config(str(CONFIGS / "complex.json")) == COMPLEX


def test_load_errors() -> None:
    with pytest.raises(ConfigError, match=r"invalid JSON at line 1, column 7\d: "):
        load_config(CONFIGS / "broken.json")
    with pytest.raises(ConfigError, match=r"unsupported file type '\.ini'"):
        load_config(CONFIGS / "logging.ini")
    with pytest.raises(FileNotFoundError):
        load_config(CONFIGS / "missing.json")


def test_load_json_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [Problem(str(path), "must hold an object, got list [1, 2]")]


def test_interpolation_rules() -> None:
    environ = {"LEVEL": "DEBUG", "EMPTY": "", "TRICKY": "${LEVEL}"}
    config = {
        "a": "${LEVEL}",
        "b": "${MISSING:-INFO}",
        "c": "${EMPTY:-WARNING}",
        "d": "$${LEVEL} costs $5 and $LEVEL stays",
        "e": ["x-${LEVEL}-${LEVEL}", {"f": "${TRICKY}"}],
        "g": 3,
        "h": None,
        "${LEVEL}": "keys are not interpolated",
        "i": "${EMPTY}",
        "j": "${MISSING:-}",
    }
    assert interpolate_env(config, environ=environ) == {
        "a": "DEBUG",
        "b": "INFO",
        "c": "WARNING",
        "d": "${LEVEL} costs $5 and $LEVEL stays",
        "e": ["x-DEBUG-DEBUG", {"f": "${LEVEL}"}],
        "g": 3,
        "h": None,
        "${LEVEL}": "keys are not interpolated",
        "i": "",
        "j": "",
    }


def test_interpolation_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRUCTLOGX_TEST_LEVEL", "ERROR")
    assert interpolate_env({"level": "${STRUCTLOGX_TEST_LEVEL}"}) == {"level": "ERROR"}


def test_missing_variables_are_named_with_their_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRUCTLOGX_TEST_LOG_DIR", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_config(CONFIGS / "file_handler.json")
    assert caught.value.problems == [
        Problem(
            "handlers.file.filename",
            "environment variable 'STRUCTLOGX_TEST_LOG_DIR' is not set; set it, or give a"
            " default: ${STRUCTLOGX_TEST_LOG_DIR:-default}",
        )
    ]
    with pytest.raises(ConfigError) as caught:
        interpolate_env({"loggers": {"django.db": {"level": "${A}"}}, "x": ["${B}"]}, environ={})
    assert [problem.path for problem in caught.value.problems] == [
        "loggers['django.db'].level",
        "x[0]",
    ]


@pytest.mark.parametrize("text", ["${1ABC}", "${ABC", "${}", "${A:default}", "${A B}"])
def test_malformed_placeholders(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^a: malformed placeholder in "):
        interpolate_env({"a": text}, environ={"A": "x", "ABC": "y"})


def test_module_attribute_spec() -> None:
    assert load_config("configs.django_settings:LOGGING") is django_settings.LOGGING


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "configs.nope_settings:LOGGING",
            "cannot import module 'configs.nope_settings': No module named 'configs.nope_settings'",
        ),
        (
            "configs.django_settings:LOGING",
            "'configs.django_settings' has no attribute 'LOGING'; did you mean 'LOGGING'?",
        ),
        ("configs.django_settings:NOT_A_DICT", "must be a dict, got list ['version', 1]"),
    ],
)
def test_module_attribute_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(spec)
    assert caught.value.problems == [Problem(spec, message)]
