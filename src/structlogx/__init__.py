"""structlogx: the standard ``logging`` module, serving operations and the business at once.

Application code keeps calling ``logging.getLogger(__name__)``; records that carry an
``action`` in their ``extra`` are business audit records. The names below are the public API;
each lives in the module named in its documentation.
"""

from structlogx.conf import Settings, settings
from structlogx.context import bind, current
from structlogx.filters import (
    ActionFilter,
    CallbackFilter,
    ContextFilter,
    ExceptionFilter,
    LevelRewriteFilter,
    RateLimitFilter,
    RedactFilter,
    RequireDebugFalse,
    RequireDebugTrue,
)
from structlogx.formatters import ActionFormatter, JSONFormatter, LogfmtFormatter
from structlogx.jsonsafe import to_jsonable
from structlogx.records import (
    AuditEntry,
    InvalidActionError,
    LoggedObject,
    changed_data,
    describe_actor,
    describe_object,
    entry_from_record,
    log_action,
)

__version__ = "0.1.0"

__all__ = [
    "ActionFilter",
    "ActionFormatter",
    "AuditEntry",
    "CallbackFilter",
    "ContextFilter",
    "ExceptionFilter",
    "InvalidActionError",
    "JSONFormatter",
    "LevelRewriteFilter",
    "LogfmtFormatter",
    "LoggedObject",
    "RateLimitFilter",
    "RedactFilter",
    "RequireDebugFalse",
    "RequireDebugTrue",
    "Settings",
    "__version__",
    "bind",
    "changed_data",
    "current",
    "describe_actor",
    "describe_object",
    "entry_from_record",
    "log_action",
    "settings",
    "to_jsonable",
]
