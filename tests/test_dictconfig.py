"""Every public formatter and filter builds from a dictConfig written as JSON text."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path

import pytest

from structlogx import context

CONFIG = """
{
  "version": 1,
  "disable_existing_loggers": false,
  "service": {"name": "shop"},
  "filters": {
    "context": {"()": "structlogx.filters.ContextFilter", "as_attributes": true}
  },
  "formatters": {
    "json": {
      "()": "structlogx.formatters.JSONFormatter",
      "schema": "plain",
      "rename_fields": {"message": "msg"},
      "static_fields": {"service": "cfg://service.name"},
      "exclude_fields": ["logger"],
      "json_default": "builtins.str",
      "json_ensure_ascii": true
    },
    "ecs": {"()": "structlogx.formatters.JSONFormatter", "schema": "ecs",
            "fields": ["message", "event.action"]},
    "logfmt": {"()": "structlogx.formatters.LogfmtFormatter",
               "fields": ["level", "message", "request_id"]},
    "text": {
      "()": "structlogx.formatters.ActionFormatter",
      "format": "%(request_id)s %(actor_text)s: %(message)s",
      "registry": "structlogx.display.default_registry",
      "single_line": true
    },
    "class_form": {"class": "structlogx.formatters.JSONFormatter", "format": "%(lineno)d"}
  },
  "handlers": {
    "json": {"class": "logging.FileHandler", "filename": "DIR/json.log", "encoding": "utf-8",
             "formatter": "json", "filters": ["context"]},
    "ecs": {"class": "logging.FileHandler", "filename": "DIR/ecs.log", "encoding": "utf-8",
            "formatter": "ecs", "filters": ["context"]},
    "logfmt": {"class": "logging.FileHandler", "filename": "DIR/logfmt.log", "encoding": "utf-8",
               "formatter": "logfmt", "filters": ["context"]},
    "text": {"class": "logging.FileHandler", "filename": "DIR/text.log", "encoding": "utf-8",
             "formatter": "text", "filters": ["context"]},
    "class_form": {"class": "logging.FileHandler",
                   "filename": "DIR/class_form.log", "encoding": "utf-8", "formatter": "class_form"}
  },
  "loggers": {
    "jsoncfg": {"handlers": ["json", "ecs", "logfmt", "text", "class_form"], "level": "INFO",
                "propagate": false}
  }
}
"""


NAMES = ("json", "ecs", "logfmt", "text", "class_form")


@pytest.fixture
def outputs(tmp_path: Path) -> Iterator[dict[str, Path]]:
    config = json.loads(CONFIG.replace("DIR", tmp_path.as_posix()))
    logging.config.dictConfig(config)
    yield {name: tmp_path / f"{name}.log" for name in NAMES}
    logger = logging.getLogger("jsoncfg")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def test_each_formatter_and_filter_built_from_json_config(outputs: dict[str, Path]) -> None:
    with context.bind(request_id="r-5"):
        logging.getLogger("jsoncfg").info(
            "Kasse geöffnet", extra={"action": "shop.till.opened", "user": "bob"}
        )
    for handler in logging.getLogger("jsoncfg").handlers:
        handler.flush()
    written = {name: path.read_text(encoding="utf-8") for name, path in outputs.items()}
    plain = json.loads(written["json"])
    assert plain["msg"] == "Kasse geöffnet"
    assert "logger" not in plain
    assert plain["service"] == "shop"  # cfg:// resolved inside static_fields
    assert plain["request_id"] == "r-5"
    assert written["json"].isascii()
    assert json.loads(written["ecs"]) == {
        "message": "Kasse geöffnet",
        "event.action": "shop.till.opened",
    }
    assert written["logfmt"] == 'level=INFO message="Kasse geöffnet" request_id=r-5\n'
    assert written["text"] == "r-5 bob: Kasse geöffnet\n"
    assert json.loads(written["class_form"])["lineno"] > 0
