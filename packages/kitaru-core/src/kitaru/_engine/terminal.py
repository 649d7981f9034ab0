"""Keep engine chatter off the terminal (it still goes to the stored logs).

ZenML logs through two handlers on the root logger: a console handler and a
handler that feeds its stored run logs. Kitaru filters only the console one,
so the terminal shows Kitaru's own lines while ``executions logs`` keeps
everything the engine said.
"""

from __future__ import annotations

import logging

_ENGINE_LOGGER_PREFIXES = ("zenml", "alembic", "sqlalchemy", "passlib", "httpx")
_installed = False


def _is_engine_record(record: logging.LogRecord) -> bool:
    return record.name.startswith(_ENGINE_LOGGER_PREFIXES)


def install_terminal_interceptor() -> None:
    """Drop engine records below ERROR from ZenML's console handler.

    The filter is installed on the handler *class*, so it survives ZenML
    re-initialising its logging. Errors still reach the terminal.
    """
    global _installed
    if _installed:
        return
    from zenml.logger import ZenMLConsoleHandler

    original_filter = ZenMLConsoleHandler.filter

    def kitaru_console_filter(self: logging.Handler, record: logging.LogRecord):  # type: ignore[no-untyped-def]
        if _is_engine_record(record) and record.levelno < logging.ERROR:
            return False
        return original_filter(self, record)

    ZenMLConsoleHandler.filter = kitaru_console_filter  # type: ignore[method-assign]
    _installed = True
