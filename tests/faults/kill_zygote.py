"""A fork server for fault trials: import Kitaru and its engine once, fork a process per script.

Starting a Python process that imports Kitaru's engine takes 5-15 s on a
loaded 2-core machine, most of a trial. This server imports the modules once
(touching no store: no config is read, no database opened, no thread
started) and then, for each request, forks a child that becomes a new
session (its own process group, so ``kill -9`` of the group is exact),
changes directory, takes the request's environment and runs the script as
``__main__``, exactly like ``python SCRIPT ARGS`` would after its imports.

Protocol (JSON lines): a request on stdin ``{"argv": [SCRIPT, ARG...],
"cwd": DIR, "env": {...}, "log": FILE}`` is answered on stdout with
``{"pid": N}``; when a child exits the server prints ``{"exited": N,
"code": C}`` (C is ``-signal`` for a signal, like ``Popen.returncode``).
The server exits when stdin closes.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import runpy
import select
import signal
import sys
import threading
from typing import Any

PRELOAD = (
    "kitaru",
    "kitaru.flows",
    "kitaru.checkpoints",
    "kitaru.client",
    "kitaru.cli.app",
    "kitaru.cli.executions",
    "zenml",
    "zenml.client",
    "zenml.pipelines",
    "zenml.steps",
    "zenml.orchestrators",
    "zenml.artifact_stores",
    "zenml.zen_stores.sql_zen_store",
    "zenml.models",
    "zenml.orchestrators.local.local_orchestrator",
    "zenml.execution.pipeline.dynamic.runner",
    "zenml.pipelines.dynamic.pipeline_definition",
    "zenml.zen_stores.migrations.alembic",
    "alembic",
    "pandas",
    "numpy",
)


def preload() -> dict[str, str]:
    """Import everything a trial needs; return the variables the imports set (``ZENML_*`` ...)."""
    before = dict(os.environ)
    for name in PRELOAD:
        importlib.import_module(name)
    engine = importlib.import_module("kitaru._engine")
    for module in pkgutil.iter_modules(engine.__path__):
        importlib.import_module(f"kitaru._engine.{module.name}")
    for optional in ("s3fs", "kitaru_aws", "kitaru_aws.artifact_store", "kitaru_local"):
        try:
            importlib.import_module(optional)
        except ImportError:
            pass
    # The integrations' flavors (azure, gcp, aws SDK modules ...): imported, not configured.
    from zenml.integrations.registry import integration_registry

    integration_registry.activate_integrations()
    if threading.active_count() != 1:
        raise RuntimeError(f"preloading started threads: {threading.enumerate()}")
    return {key: value for key, value in os.environ.items() if before.get(key) != value}


def child(request: dict[str, Any], derived: dict[str, str]) -> None:
    """Become the requested script (never returns)."""
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.stdin = open(0)  # noqa: SIM115
        sys.stdout = open(1, "w", buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1)  # noqa: SIM115
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ.update(derived)  # what importing Kitaru set, as in a fresh interpreter
        script = os.path.abspath(request["argv"][0])
        sys.argv = [script, *request["argv"][1:]]
        sys.path[0] = os.path.dirname(script)
        try:
            runpy.run_path(script, run_name="__main__")
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except BaseException:  # noqa: BLE001  # report it like the interpreter would
            import traceback

            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def main() -> None:
    # Answers go to the original stdout; whatever imports print goes to stderr.
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    def answer(message: dict[str, Any]) -> None:
        answers.write(json.dumps(message) + "\n")
        answers.flush()

    derived = preload()
    answer({"ready": os.getpid()})
    children: set[int] = set()
    stdin = sys.stdin.fileno()
    buffer = b""
    while True:
        readable, _, _ = select.select([stdin], [], [], 0.01 if children else 0.2)
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
                answer({"exited": pid, "code": code})
        if not readable:
            continue
        chunk = os.read(stdin, 65536)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                answers.close()
                child(request, derived)
            children.add(pid)
            answer({"pid": pid})


if __name__ == "__main__":
    main()
