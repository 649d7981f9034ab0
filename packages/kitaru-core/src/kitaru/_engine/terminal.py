"""Keep engine chatter off the terminal (it still goes to the stored logs).

ZenML logs through two handlers on the root logger: a console handler and a
handler that feeds its stored run logs. Kitaru filters only the console one,
so the terminal shows Kitaru's own lines while ``executions logs`` keeps
everything the engine said.
"""

from __future__ import annotations

import logging
import re

# The engine, its database layers and the cloud SDKs it drives (botocore says
# "Found credentials in environment variables." on every S3 run).
_ENGINE_LOGGER_PREFIXES = (
    "zenml",
    "alembic",
    "sqlalchemy",
    "passlib",
    "httpx",
    "botocore",
    "boto3",
    "s3fs",
    "aiobotocore",
    "gcsfs",
    "google",
    "azure",
    "adlfs",
    "urllib3",
)
_installed = False


def _is_engine_record(record: logging.LogRecord) -> bool:
    return record.name.startswith(_ENGINE_LOGGER_PREFIXES)


# Engine errors that Kitaru reports itself, better worded, as exceptions.
_REPORTED_BY_KITARU = ("ZenML cannot locate and import",)
# Engine errors that only echo a cancellation Kitaru already reports.
_CANCELLATION_ECHOES = ("The status of finished steps can not be updated",)
# A step interrupted by Ctrl-C (empty KeyboardInterrupt, or ZenML's own
# interruption): Kitaru reports the interruption itself.
_INTERRUPTION_ECHO = re.compile(
    r"^Failed to run step `[^`]*`: *(The execution was interrupted\.|Pipeline run is stopped\.)?$"
)

_VOCABULARY = (
    (re.compile(r"Failed to run step"), "Checkpoint attempt failed:"),
    (re.compile(r"\bZenML\b"), "the engine"),
    (re.compile(r"\bpipeline runs?\b"), "execution"),
    (re.compile(r"\bPipeline runs?\b"), "Execution"),
    (re.compile(r"\bpipelines?\b"), "flow"),
    (re.compile(r"\bPipelines?\b"), "Flow"),
    (re.compile(r"\bsteps\b"), "checkpoints"),
    (re.compile(r"\bstep\b"), "checkpoint"),
    (re.compile(r"\bSteps?\b"), "Checkpoint"),
)


def to_kitaru_vocabulary(message: str) -> str:
    """Rewrite an engine message into Kitaru's words (flow, checkpoint, execution).

    Names in backticks (a user's ``my_step`` function) are left alone.
    """
    parts = message.split("`")
    for index in range(0, len(parts), 2):  # even parts are outside backticks
        for pattern, kitaru_word in _VOCABULARY:
            parts[index] = pattern.sub(kitaru_word, parts[index])
    return "`".join(parts)


def install_terminal_interceptor() -> None:
    """Keep engine records below ERROR off ZenML's console handler.

    The hook is installed on the handler *class*, so it survives ZenML
    re-initialising its logging. Engine errors still reach the terminal, in
    Kitaru's words; the stored logs get the original record.
    """
    global _installed
    if _installed:
        return
    from zenml.logger import ZenMLConsoleHandler

    original_handle = ZenMLConsoleHandler.handle

    def kitaru_console_handle(self: logging.Handler, record: logging.LogRecord) -> bool:
        if _is_engine_record(record):
            if record.levelno < logging.ERROR:
                return False
            message = record.getMessage()
            if (
                message.startswith(_REPORTED_BY_KITARU)
                or any(echo in message for echo in _CANCELLATION_ECHOES)
                or _INTERRUPTION_ECHO.match(message)
            ):
                return False
            record = logging.makeLogRecord(record.__dict__)
            record.msg = to_kitaru_vocabulary(record.getMessage())
            record.args = None
        return original_handle(self, record)

    ZenMLConsoleHandler.handle = kitaru_console_handle  # type: ignore[method-assign]
    _installed = True
