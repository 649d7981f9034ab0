"""Which commands the warm helper runs, which helper serves a context, and when it is out of date.

Three questions, each answered cheaply (no engine import, a few hundred
``stat`` calls at most), because the CLI asks them before every routed
command:

* :func:`routed` -- is this command a read the helper may run?
* :func:`helper_paths` -- where does the helper for this context listen?
  The context is everything the helper fixed when it loaded the engine and
  that a caller could change without touching a file: the Python and Kitaru
  versions, the config dir, the working directory, the engine-relevant
  environment variables, and the sandbox the caller runs in
  (:mod:`kitaru.cli.warm.confinement`). Each context has its own helper.
* :func:`fingerprint` -- has anything the helper loaded changed on disk since
  it was born? Kitaru's code (so a developer's edit is never served by an
  old helper), the installed packages (a new plugin), the config dir's files
  (a new active stack, a login; small files count by content, as the
  engine rewrites its config file unchanged on every start) and the
  project's config files.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import stat
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kitaru.cli.warm import confinement
from kitaru.config.paths import config_dir
from kitaru.settings import settings

READ_COMMANDS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("status",),
        ("info",),
        ("executions", "list"),
        ("executions", "get"),
        ("executions", "logs"),
        ("stack", "list"),
        ("stack", "current"),
        ("stack", "show"),
        ("secrets", "list"),
    }
)
"""Commands the helper runs: each reads the store (so it loads the engine) and changes nothing.

Commands that never load the engine (``model list``, ``--help``) are fast
in-process and are not routed: routing one would load the engine for it.
"""

CONTEXT_VARIABLE_PREFIXES = ("KITARU_", "ZENML_", "PYTHON", "AWS_", "GOOGLE_", "AZURE_", "XDG_", "LC_")
"""Environment variables that may shape the engine when it loads: each value is part of the context."""

CONTEXT_VARIABLES = ("HOME", "PATH", "LANG", "TZ")

PROJECT_FILES = ("pyproject.toml", "kitaru.yaml", "kitaru.yml")
"""Files that commands read configuration from, in the working directory or any folder above it."""

PROJECT_DIR = ".kitaru"
"""The project folder (``kitaru init``): its files (the project's active stack) count by content."""

SERVING_HELPER: list[int] = []
"""Set, in a fork of the helper running a command, to the helper's pid."""

STARTUP_FDS: frozenset[int] = frozenset(
    int(name) for name in (os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else ()) if name.isdigit()
)
"""Descriptors open when the CLI started (inherited: a helper born from it gives them all up)."""

STARTUP_ENVIRON = dict(os.environ)
"""The environment as the CLI started, before the engine added its variables (see :func:`engine_variables`)."""

STARTUP_PATH = tuple(sys.path)
"""``sys.path`` as the CLI started (the engine adds to it when it loads; the fingerprint uses this copy)."""

KITARU_PACKAGES = ("kitaru", "kitaru_local", "kitaru_aws", "kitaru_gcp", "kitaru_azure")
"""Packages whose source files are part of the fingerprint (an edit replaces the helper)."""


@dataclass(frozen=True)
class HelperPaths:
    """Where the helper of one context lives.

    Attributes:
        socket: The Unix socket it listens on.
        lock: Held while a helper is being started, so one starts per context.
        pid: Its process id, for tests and for ``kill``.
    """

    socket: Path
    lock: Path
    pid: Path


def routed(argv: Sequence[str]) -> bool:
    """Whether ``argv`` is a read command the helper may run (never ``--help``)."""
    if any(arg in ("-h", "--help") for arg in argv):
        return False
    words = [arg for arg in argv[:2] if not arg.startswith("-")]
    return tuple(words[:1]) in READ_COMMANDS or tuple(words[:2]) in READ_COMMANDS


def real_stdio() -> bool:
    """Whether ``sys.stdin``/``stdout``/``stderr`` are the process's descriptors 0, 1 and 2.

    The helper writes to the caller's descriptors; output captured by
    replacing ``sys.stdout`` would bypass the capture, so such a caller runs
    in-process.
    """
    try:
        return (sys.stdin.fileno(), sys.stdout.fileno(), sys.stderr.fileno()) == (0, 1, 2)
    except (AttributeError, OSError, ValueError):
        return False


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the helper may be used (``KITARU_NO_DAEMON`` is off)."""
    return not settings(environ).no_daemon


def idle_seconds() -> float:
    """Seconds a helper waits for a command before it exits (``KITARU_DAEMON_IDLE_SECONDS``, default 600)."""
    raw = settings().daemon_idle_seconds
    try:
        value = float(raw) if raw else 600.0
    except ValueError:
        value = 600.0
    return max(value, 1.0)


def helper_dir() -> Path | None:
    """The owner-only folder holding helper sockets, created if needed; None when it is not safe to use.

    ``KITARU_DAEMON_DIR``, else ``$XDG_RUNTIME_DIR/kitaru``, else
    ``/tmp/kitaru-<uid>``. A folder that another user owns, or that others
    can enter, is refused (and the helper not used).
    """
    chosen = settings().daemon_dir
    runtime = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    if chosen:
        folder = Path(chosen).expanduser()
    elif runtime:
        folder = Path(runtime) / "kitaru"
    else:
        folder = Path("/tmp") / f"kitaru-{os.getuid()}"  # noqa: S108 - checked to be ours and owner-only below
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return folder


def context(cwd: str, environ: Mapping[str, str]) -> str:
    """The text that names a context (see the module docstring); its hash names the helper."""
    from kitaru import __version__

    variables = sorted(
        (name, value)
        for name, value in environ.items()
        if name.startswith(CONTEXT_VARIABLE_PREFIXES) or name in CONTEXT_VARIABLES
    )
    parts = [
        sys.executable,
        sys.version,
        __version__,
        str(config_dir()),
        os.path.realpath(cwd),
        repr(variables),
        confinement.mine(),
    ]
    return "\n".join(parts)


def describe_helper() -> str:
    """Say whether the warm helper answered this command (``kitaru info``)."""
    if SERVING_HELPER:
        return f"answered this command (pid {SERVING_HELPER[0]}; see `pgrep kitaru-helper`)"
    if not enabled():
        return "off (KITARU_NO_DAEMON)"
    return "not used: this command ran in its own process"


def engine_variables() -> dict[str, str]:
    """The variables this process set since it started (the engine's, from Kitaru's settings).

    A command run by the helper gets its caller's environment plus these: they
    follow from the context, which the caller shares with the helper.
    """
    return {name: value for name, value in os.environ.items() if STARTUP_ENVIRON.get(name) != value}


def helper_paths(cwd: str, environ: Mapping[str, str]) -> HelperPaths | None:
    """The paths of the helper for this context, or None when no safe folder exists."""
    folder = helper_dir()
    if folder is None:
        return None
    name = hashlib.sha256(context(cwd, environ).encode()).hexdigest()[:24]
    return HelperPaths(socket=folder / f"{name}.sock", lock=folder / f"{name}.lock", pid=folder / f"{name}.pid")


def _stamp(path: Path | str) -> tuple[str, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return str(path), info.st_mtime_ns, info.st_size


CONTENT_LIMIT_BYTES = 1024 * 1024


def _content(path: Path | str) -> tuple[str, str] | tuple[str, int, int] | None:
    """A small file by its content (the engine rewrites its config unchanged on every start), else its stamp."""
    try:
        if os.path.isfile(path) and os.path.getsize(path) <= CONTENT_LIMIT_BYTES:
            with open(path, "rb") as handle:
                return str(path), hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None
    return _stamp(path)


def _source_dirs() -> Iterable[str]:
    for name in KITARU_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations:
            yield from spec.submodule_search_locations


def _newest_source(folder: str) -> tuple[str, int, int]:
    newest, count = 0, 0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [name for name in dirs if name != "__pycache__"]
        for name in files:
            if name.endswith((".py", ".json", ".yaml")):
                count += 1
                try:
                    newest = max(newest, os.stat(os.path.join(root, name)).st_mtime_ns)
                except OSError:
                    continue
    return folder, newest, count


def fingerprint(cwd: str) -> str:
    """A digest of the files a helper depends on; it changes when any of them does.

    Args:
        cwd: The working directory of the command (its project files count).

    Returns:
        A hex digest, compared between the caller and the helper.
    """
    stamps: list[object] = [_newest_source(folder) for folder in _source_dirs()]
    stamps += [_stamp(entry) for entry in STARTUP_PATH if entry and os.path.isdir(entry)]
    folder = config_dir()
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        entries = []
    stamps += [_content(entry.path) for entry in entries if entry.is_file() and not entry.name.endswith(".lock")]
    stamps += _project_stamps(cwd)
    return hashlib.sha256(repr(stamps).encode()).hexdigest()


def _project_stamps(cwd: str) -> list[object]:
    """The project files of ``cwd`` and of every folder above it (a command may be run from a subfolder)."""
    stamps: list[object] = []
    folder = Path(os.path.realpath(cwd))
    for current in (folder, *folder.parents):
        stamps += [_content(current / name) for name in PROJECT_FILES]
        project = current / PROJECT_DIR
        if project.is_dir():
            with contextlib.suppress(OSError):
                stamps += [_content(entry) for entry in sorted(project.iterdir()) if entry.is_file()]
    return stamps
