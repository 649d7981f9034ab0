"""Which malformed invocations the bad-input sweep feeds every ``kitaru`` command.

The commands are found by walking the real Typer app (:func:`walk_commands`),
so a command added later is swept without editing this file: it gets the
generic cases (an unknown flag, an extra argument, a bad ``--output``, a flag
given a value, missing required arguments, and for each of its parameters an
empty value plus a value of the wrong type). Parameters whose meaning we know
get targeted values on top (:data:`TARGETED`): malformed and unknown ids, bad
JSON, missing, unreadable and garbage files, negative and non-numeric numbers,
unknown enum values and types.

Each case starts from a *base* invocation made of real things from the store
(the ids of a completed, a waiting and a failed execution, a real checkpoint
name, the wait's name) and changes exactly one thing, so the malformed value is
the only reason the command can fail. A command that changes state on valid
input (``secrets set``, ``stack create``, ``executions input``, ``retry`` ...)
is only ever given invalid input: every case below must be refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

LONG = "f" * 5000
"""A too-long value (well under Linux's 128 KiB per-argument limit)."""

UNKNOWN_UUID = "6b5f2c1e-0d4a-4c1b-9a43-1f2e3d4c5b6a"
"""A well-formed execution id no store has."""

BAD_IDS: tuple[tuple[str, str], ...] = (
    ("not-a-uuid", "not-a-uuid"),
    ("unknown uuid", UNKNOWN_UUID),
    ("empty", ""),
    ("too long", LONG),
    ("uuid with trailing junk", UNKNOWN_UUID + "0" * 40),
    ("blank", "   "),
    ("prefix shorter than 6 characters", "abc12"),
)
"""Malformed execution ids (name, value)."""

BAD_JSON: tuple[tuple[str, str], ...] = (
    ("unclosed object", "{"),
    ("unclosed array", "[1"),
    ("python dict", "{'a': 1}"),
    ("bare word", "tru"),
    ("empty", ""),
    ("trailing garbage", '{"a": 1} x'),
)
"""Malformed JSON for every option that takes JSON."""

NOT_OBJECTS: tuple[tuple[str, str], ...] = (
    ("array", "[1, 2]"),
    ("string", '"text"'),
    ("null", "null"),
    ("number", "3"),
)
"""Valid JSON that is not the object an option requires."""

GENERIC_EXPECTED_GROUPS = ("executions", "stack", "log-store", "model", "secrets")
"""Command groups the walk must find (the test fails if one disappears)."""

GENERIC_EXPECTED_COMMANDS = (
    "init",
    "status",
    "login",
    "logout",
    "info",
    "plugins",
    "run",
    "executions get",
    "executions list",
    "executions logs",
    "executions input",
    "executions retry",
    "executions resume",
    "executions cancel",
    "executions replay",
    "executions delete",
    "executions prune",
    "stack list",
    "stack current",
    "stack show",
    "stack use",
    "stack create",
    "stack delete",
    "log-store set",
    "log-store show",
    "log-store reset",
    "model register",
    "model list",
    "model remove",
    "model default",
    "secrets set",
    "secrets show",
    "secrets list",
    "secrets delete",
    "clean",
)
"""Commands the walk must find (new ones are swept too; these must not vanish)."""


@dataclass(frozen=True)
class Param:
    """What the walk learned about one parameter of a command."""

    name: str
    opts: tuple[str, ...]
    kind: str  # "argument" | "option"
    type_name: str  # "str" | "int" | "float" | "bool" | "path" | "count" | ...
    required: bool
    is_flag: bool


@dataclass(frozen=True)
class Command:
    """A leaf command: its path (``executions get``) and parameters."""

    path: str
    params: tuple[Param, ...]
    allows_extra_args: bool

    def param(self, name: str) -> Param | None:
        return next((param for param in self.params if param.name == name), None)


@dataclass(frozen=True)
class Real:
    """Real things in the sweep's store and scratch files to point commands at.

    Attributes:
        done: Id of a completed execution.
        waiting: Id of a waiting (paused) execution.
        failed: Id of a failed execution.
        checkpoint: A checkpoint of ``done`` with a downstream consumer.
        last_checkpoint: ``done``'s last checkpoint (no downstream consumer).
        wait: The name of ``waiting``'s pending wait.
        flows_file: The file that defines the flows (a valid ``run`` target file).
        files: Named scratch paths: ``missing``, ``directory``, ``binary``,
            ``not_utf8``, ``bad_yaml``, ``yaml_list``, ``yaml_unknown_key``,
            ``yaml_wrong_type``, ``bad_python``, ``plain_file``, ``initialized``.
    """

    done: str
    waiting: str
    failed: str
    checkpoint: str
    last_checkpoint: str
    wait: str
    flows_file: str
    files: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """One invocation that must be refused."""

    command: str
    what: str
    argv: tuple[str, ...]
    params: tuple[str, ...] = ()
    """The parameters the case sets to a bad value (empty for unknown flags and extra arguments)."""

    @property
    def label(self) -> str:
        return f"kitaru {self.command}: {self.what}"


# -- walking the app ---------------------------------------------------------------


def _type_name(param: Any) -> str:
    if getattr(param, "count", False):
        return "count"
    if getattr(param, "is_flag", False):
        return "bool"
    name = getattr(getattr(param, "type", None), "name", "") or ""
    return {"text": "str", "integer": "int", "float": "float", "path": "path", "boolean": "bool"}.get(
        name.lower(), name.lower() or "str"
    )


def walk_commands(app: Any) -> list[Command]:
    """Every leaf command of the Typer ``app``, with its parameters (dynamic ones included).

    Args:
        app: A ``typer.Typer`` (``kitaru.cli.app.build_app()``).

    Returns:
        The commands in registration order.
    """
    import typer.core
    import typer.main

    root = typer.main.get_command(app)
    found: list[Command] = []

    def visit(command: Any, ctx: Any, path: list[str]) -> None:
        if isinstance(command, typer.core.TyperGroup):
            for name in command.list_commands(ctx):
                child = command.get_command(ctx, name)
                visit(child, type(ctx)(child, parent=ctx, info_name=name), [*path, name])
            return
        params = []
        for param in command.get_params(ctx):
            if param.name in ("help",):
                continue
            is_option = type(param).__name__.endswith("Option")
            params.append(
                Param(
                    name=param.name or "",
                    opts=tuple(param.opts),
                    kind="option" if is_option else "argument",
                    type_name=_type_name(param),
                    required=bool(param.required),
                    is_flag=bool(getattr(param, "is_flag", False)),
                )
            )
        settings = command.context_settings or {}
        found.append(Command(" ".join(path), tuple(params), bool(settings.get("allow_extra_args"))))

    visit(root, root.make_context("kitaru", [], resilient_parsing=True), [])
    return found


# -- base invocations -----------------------------------------------------------------


def base_values(command: Command, real: Real) -> dict[str, list[str]]:
    """A base invocation as parameter name → argv tokens (``[]`` leaves a parameter out).

    Required parameters always get a plausible value; for the rest the base
    only sets what a targeted case needs to reach its check.
    """
    exec_for = {
        "executions input": real.waiting,
        "executions resume": real.waiting,
        "executions retry": real.failed,
        "executions cancel": real.waiting,
    }
    specific: dict[str, dict[str, list[str]]] = {
        "executions input": {"value": ["--value", "true"]},
        "executions replay": {"from_": ["--from", real.checkpoint]},
        # Deleting needs --yes, which no base has: without a terminal delete must refuse.
        "executions delete": {"exec_ids": [real.done]},
        # Nothing ended ten years ago: the base deletes nothing and needs no --yes.
        "executions prune": {"older_than": ["--older-than", "3650d"]},
        "run": {"target": [f"{real.flows_file}:bad_input_done"], "args": ["--args", '{"topic": "x"}']},
        "stack create": {"name": ["bad-input-stack"], "no_verify": ["--no-verify"]},
        "stack show": {"name_or_id": ["default"]},
        "stack use": {"stack": ["default"]},
        "stack delete": {"stack": ["bad-input-no-such-stack"]},
        "log-store set": {"backend": ["otel"], "endpoint": ["--endpoint", "https://otel.example.com"]},
        "model register": {"alias": ["badinput"], "model": ["--model", "openai/gpt-4o-mini"]},
        "model remove": {"alias": ["badinput-none"]},
        "model default": {"alias": ["badinput-none"]},
        "secrets set": {"name": ["bad-input-secret"]},
        "secrets show": {"name_or_id": ["bad-input-no-such-secret"]},
        "secrets delete": {"name_or_id": ["bad-input-no-such-secret"]},
        "init": {"path": [real.files["initialized"]]},
        "login": {"server": []},
        # Without --yes and without a terminal (the sweep's stdin is not one) clean must refuse: that
        # refusal is what keeps the sweep's own config dir alive, and every clean case relies on it.
        "clean": {"scope": ["global"]},
    }.get(command.path, {})
    base: dict[str, list[str]] = {}
    for param in command.params:
        if param.name in specific:
            base[param.name] = specific[param.name]
        elif param.name == "exec_id":
            base[param.name] = [exec_for.get(command.path, real.done)]
        elif param.required:
            value = "x"
            base[param.name] = [value] if param.kind == "argument" else [param.opts[0], value]
        else:
            base[param.name] = []
    return base


def _argv(command: Command, base: dict[str, list[str]], **changed: list[str]) -> tuple[str, ...]:
    tokens = command.path.split()
    arguments = [p for p in command.params if p.kind == "argument"]
    options = [p for p in command.params if p.kind == "option"]
    for param in arguments:
        tokens.extend(changed.get(param.name, base.get(param.name, [])))
    for param in options:
        tokens.extend(changed.get(param.name, base.get(param.name, [])))
    return tuple(tokens)


# -- targeted values ---------------------------------------------------------------------


Targeted = Callable[[Command, Real], Iterator[tuple[str, dict[str, list[str]], tuple[str, ...]]]]
"""Yields (what, changed params, extra tokens) for one command."""


def _ids(param: str = "exec_id") -> Targeted:
    def cases(command: Command, real: Real) -> Iterator[tuple[str, dict[str, list[str]], tuple[str, ...]]]:
        for name, value in BAD_IDS:
            yield f"{param} {name}", {param: [value]}, ()

    return cases


def _confirmed_ids(param: str) -> Targeted:
    """Malformed ids with ``--yes``, so the id is what a deleting command must refuse."""

    def cases(command: Command, real: Real) -> Iterator[tuple[str, dict[str, list[str]], tuple[str, ...]]]:
        for name, value in BAD_IDS:
            yield f"{param} {name} with --yes", {param: [value]}, ("--yes",)

    return cases


def _names(param: str, unknown: str, *, empty: bool = True, long: bool = True) -> Targeted:
    def cases(command: Command, real: Real) -> Iterator[tuple[str, dict[str, list[str]], tuple[str, ...]]]:
        yield f"{param} unknown", {param: [unknown]}, ()
        yield f"{param} not-a-uuid-shaped id", {param: [UNKNOWN_UUID]}, ()
        if empty:
            yield f"{param} empty", {param: [""]}, ()
        if long:
            yield f"{param} too long", {param: [LONG]}, ()

    return cases


def _json_option(param: str, flag: str, *, objects_only: bool) -> Targeted:
    def cases(command: Command, real: Real) -> Iterator[tuple[str, dict[str, list[str]], tuple[str, ...]]]:
        for name, value in BAD_JSON:
            yield f"{flag} {name} JSON", {param: [flag, value]}, ()
        if objects_only:
            for name, value in NOT_OBJECTS:
                yield f"{flag} is a JSON {name}", {param: [flag, value]}, ()

    return cases


def _numbers(param: str, flag: str, values: tuple[str, ...]) -> Targeted:
    def cases(command: Command, real: Real) -> Iterator[tuple[str, dict[str, list[str]], tuple[str, ...]]]:
        for value in values:
            yield f"{flag} {value}", {param: [flag, value]}, ()

    return cases


def _values(param: str, flag: str | None, values: tuple[tuple[str, str], ...]) -> Targeted:
    def cases(command: Command, real: Real) -> Iterator[tuple[str, dict[str, list[str]], tuple[str, ...]]]:
        for name, value in values:
            tokens = [flag, value] if flag else [value]
            yield f"{flag or param} {name}", {param: tokens}, ()

    return cases


def _files(param: str, flag: str, names: tuple[str, ...]) -> Targeted:
    def cases(command: Command, real: Real) -> Iterator[tuple[str, dict[str, list[str]], tuple[str, ...]]]:
        for name in names:
            yield f"{flag} {name} file", {param: [flag, real.files[name]]}, ()

    return cases


def _extra(what: str, *tokens: str, **changed: list[str]) -> Targeted:
    def cases(command: Command, real: Real) -> Iterator[tuple[str, dict[str, list[str]], tuple[str, ...]]]:
        yield what, dict(changed), tuple(tokens)

    return cases


def _real(what: str, build: Callable[[Real], dict[str, list[str]]], *tokens: str) -> Targeted:
    """A case whose values come from the store (``real``)."""

    def cases(command: Command, real: Real) -> Iterator[tuple[str, dict[str, list[str]], tuple[str, ...]]]:
        yield what, build(real), tuple(tokens)

    return cases


STACK_FILES = (
    "missing",
    "directory",
    "binary",
    "not_utf8",
    "bad_yaml",
    "yaml_list",
    "yaml_unknown_key",
    "yaml_wrong_type",
)
LIMITS = ("-1", "0", "abc", "1.5")
INTERVALS = ("0", "-1", "abc", "nan", "inf", "-inf")

TARGETED: dict[str, tuple[Targeted, ...]] = {
    "init": (
        _values("path", None, (("missing directory", "/nonexistent/bad-input/dir"),)),
        _real("path is a file", lambda r: {"path": [r.files["plain_file"]]}),
        _real("path already initialized", lambda r: {"path": [r.files["initialized"]]}),
        _values("path", None, (("too long", "/" + "d" * 5000),)),
    ),
    "login": (
        _numbers("port", "--port", ("-1", "0", "70000", "abc")),
        _numbers("timeout", "--timeout", ("0", "-5", "abc", "nan", "inf")),
        _extra("remote-only --api-key without a server", "--api-key", "k"),
        _extra("remote-only --project without a server", "--project", "p"),
        _extra("remote-only --refresh without a server", "--refresh"),
        _values(
            "server",
            None,
            (
                ("not a URL", "not a url"),
                ("ftp URL", "ftp://example.com"),
                ("empty", ""),
                ("host without scheme", "example.com:8080"),
            ),
        ),
        _extra("--port with a server", "--port", "8080", server=["https://example.com"]),
        _extra("--api-key - with empty stdin", "--api-key", "-", server=["http://127.0.0.1:9"]),
        _extra("unreachable server", "--api-key", "k", "--timeout", "2", server=["http://127.0.0.1:9"]),
    ),
    "info": (
        _real("--file in a missing directory", lambda r: {"file": ["--file", r.files["missing"] + "/info.json"]}),
        _real("--file is a directory", lambda r: {"file": ["--file", r.files["directory"]]}),
        _real("--file with an unknown extension", lambda r: {"file": ["--file", r.files["missing"] + ".txt"]}),
        _values("file", "--file", (("empty", ""),)),
    ),
    "run": (
        _values(
            "target",
            None,
            (
                ("empty", ""),
                ("no colon", "bad_input_flows"),
                ("missing file", "/nonexistent/flows.py:f"),
                ("missing module", "no_such_module_xyz:f"),
                ("colon only", ":"),
                ("too long", LONG + ":f"),
                ("not a flow", "os.path:join"),
            ),
        ),
        _real("target flow missing from file", lambda r: {"target": [f"{r.flows_file}:no_such_flow"]}),
        _real("target is a checkpoint", lambda r: {"target": [f"{r.flows_file}:bad_input_fetch"]}),
        _real("target file has a syntax error", lambda r: {"target": [f"{r.files['bad_python']}:f"]}),
        _real("target file is binary", lambda r: {"target": [f"{r.files['binary']}:f"]}),
        _real("target is a directory", lambda r: {"target": [f"{r.files['directory']}:f"]}),
        _json_option("args", "--args", objects_only=True),
        _extra("--args names an unknown parameter", args=["--args", '{"topic": "x", "nope": 1}']),
        _extra("--args misses a required parameter", args=["--args", "{}"]),
        _values("stack", "--stack", (("unknown", "bad-input-no-such-stack"), ("empty", ""))),
    ),
    "executions get": (_ids(),),
    "executions list": (
        _values("status", "--status", (("unknown", "exploded"), ("empty", ""), ("too long", LONG))),
        _numbers("limit", "--limit", LIMITS),
    ),
    "executions logs": (
        _ids(),
        _values("source", "--source", (("unknown", "stdout"), ("empty", ""))),
        _numbers("limit", "--limit", LIMITS),
        _numbers("interval", "--interval", INTERVALS),
        _extra("--grouped with -o json", "--grouped", "-o", "json"),
        _extra(
            "--checkpoint with --source runner",
            checkpoint=["--checkpoint", "bad_input_fetch"],
            source=["--source", "runner"],
        ),
        _values("verbose", None, (("-v with a value", "--verbose=abc"),)),
    ),
    "executions input": (
        _ids(),
        _json_option("value", "--value", objects_only=False),
        _values("value", "--value", (("wrong type for the schema", '"yes"'), ("object for a bool", '{"a": 1}'))),
        _values("wait", "--wait", (("unknown", "no-such-wait"), ("empty", ""), ("too long", LONG))),
        _extra("--value with --abort", "--abort"),
        _extra("--value with --interactive", "--interactive"),
        _extra("--interactive without a terminal", "--interactive", value=[]),
        _extra("--interactive with -o json", "--interactive", "-o", "json", value=[]),
        _extra("no value for a bool wait", value=[]),
        _extra("no execution id and no --interactive", exec_id=[]),
        _real("completed execution", lambda r: {"exec_id": [r.done]}),
        _real("failed execution", lambda r: {"exec_id": [r.failed]}),
    ),
    "executions retry": (
        _ids(),
        _real("completed execution", lambda r: {"exec_id": [r.done]}),
        _real("waiting execution", lambda r: {"exec_id": [r.waiting]}),
    ),
    "executions resume": (
        _ids(),
        _real("completed execution", lambda r: {"exec_id": [r.done]}),
        _real("failed execution", lambda r: {"exec_id": [r.failed]}),
        _real("waiting execution whose wait is unanswered", lambda r: {"exec_id": [r.waiting]}),
    ),
    "executions cancel": (
        _ids(),
        _real("completed execution", lambda r: {"exec_id": [r.done]}),
        _real("failed execution", lambda r: {"exec_id": [r.failed]}),
    ),
    "executions replay": (
        _ids(),
        _values(
            "from_",
            "--from",
            (
                ("unknown checkpoint", "no_such_checkpoint"),
                ("empty", ""),
                ("too long", LONG),
                ("unknown uuid", UNKNOWN_UUID),
            ),
        ),
        _json_option("args", "--args", objects_only=True),
        _json_option("overrides", "--overrides", objects_only=True),
        _extra("--args sets a reserved name", args=["--args", '{"exec_id": 1}']),
        _extra("--args names an unknown parameter", args=["--args", '{"nope": 1}']),
        _extra("--overrides pre-answers a wait", overrides=["--overrides", '{"wait.approve": true}']),
        _extra("--overrides key without prefix", overrides=["--overrides", '{"bad_input_fetch": 1}']),
        _extra("--overrides empty selector", overrides=["--overrides", '{"checkpoint.": 1}']),
        _extra("--overrides unknown checkpoint", overrides=["--overrides", '{"checkpoint.nope": 1}']),
        _real(
            "--overrides a checkpoint nobody consumes",
            lambda r: {"overrides": ["--overrides", f'{{"checkpoint.{r.last_checkpoint}": 1}}']},
        ),
        _extra("missing --from", from_=[]),
    ),
    "executions delete": (
        _ids("exec_ids"),
        _confirmed_ids("exec_ids"),
        _extra("without --yes and no terminal"),
        _extra("several ids without --yes", UNKNOWN_UUID),
        _real("waiting execution without --yes", lambda r: {"exec_ids": [r.waiting]}),
    ),
    "executions prune": (
        _values(
            "older_than",
            "--older-than",
            (
                ("no unit", "30"),
                ("unknown unit", "30y"),
                ("negative", "-1d"),
                ("words", "thirty days"),
                ("too long", LONG),
                ("overflowing", "999999999999w"),
            ),
        ),
        _values("status", "--status", (("unknown", "exploded"), ("running", "running"), ("waiting", "waiting"))),
        _values("flow", "--flow", (("blank", "   "),)),
        _extra("executions match, without --yes and no terminal", older_than=["--older-than", "0s"]),
        _extra("--dry-run with a bad status", "--dry-run", status=["--status", "exploded"]),
    ),
    "stack show": (_names("name_or_id", "bad-input-no-such-stack"),),
    "stack use": (_names("stack", "bad-input-no-such-stack"),),
    "stack delete": (
        _names("stack", "bad-input-no-such-stack"),
        _extra("the active stack without --force", stack=["default"]),
    ),
    "stack create": (
        _values("name", None, (("empty", ""), ("blank", "   "))),
        _extra("no name", name=[]),
        _values("stack_type", "--type", (("unknown", "mainframe"), ("too long", LONG))),
        _files("file", "--file", STACK_FILES),
        _values(
            "extra",
            "--extra",
            (
                ("without =", "orchestrator.synchronous"),
                ("unknown target", "warp_drive.x=1"),
                ("empty field", "orchestrator.=1"),
                ("bad YAML", "orchestrator.x=[1"),
                ("registry on a local stack", "container_registry.uri=x"),
                ("unknown field", "orchestrator.no_such_setting=1"),
            ),
        ),
        _extra("--type kubernetes without its required options", "--type", "kubernetes", "--cluster", "c"),
        _extra("a remote-only option on a local stack", "--region", "eu-west-1"),
        _extra("--credentials on a local stack without a bucket", "--credentials", "bogus"),
        _extra("--artifact-store with an unknown scheme", "--artifact-store", "ftp://bucket/x"),
        _extra("--artifact-store bucket without a name", "--artifact-store", "s3://"),
        _extra("--async on a local stack", "--async"),
        _extra("the name of an existing stack", name=["default"]),
    ),
    "log-store set": (
        _values("backend", None, (("empty", ""), ("not a name", "Bad Backend!"), ("too long", LONG))),
        _extra("otel without --endpoint", endpoint=[]),
        _values("endpoint", "--endpoint", (("not a URL", "not a url"), ("ftp URL", "ftp://x"), ("empty", ""))),
        _extra("artifact-store with an --endpoint", backend=["artifact-store"]),
    ),
    "model register": (
        _values(
            "alias",
            None,
            (("empty", ""), ("not a name", "Bad Alias!"), ("too long", LONG), ("starts with a dash", "-x")),
        ),
        _values(
            "model",
            "--model",
            (("no provider", "gpt-4o-mini"), ("empty", ""), ("provider only", "openai/"), ("model only", "/gpt")),
        ),
        _values(
            "secret",
            "--secret",
            (("unknown", "bad-input-no-such-secret"), ("empty", ""), ("unknown uuid", UNKNOWN_UUID)),
        ),
        _extra("missing --model", model=[]),
    ),
    "model remove": (_names("alias", "badinput-none"),),
    "model default": (_names("alias", "badinput-none"),),
    "secrets set": (
        _extra("name empty", "--KEY=v", name=[""]),
        _extra("name blank", "--KEY=v", name=["   "]),
        _extra("name too long", "--KEY=v", name=[LONG]),
        _extra("name with a newline", "--KEY=v", name=["a\nb"]),
        _extra("no assignment"),
        _extra("key starting with a digit", "--1KEY=v"),
        _extra("empty key", "--=v"),
        _extra("empty value", "--KEY="),
        _extra("key without value", "--KEY"),
        _extra("repeated key", "--KEY=a", "--KEY=b"),
        _extra("stray argument", "value"),
        _extra("key with a dash", "--MY-KEY=v"),
    ),
    "secrets show": (_names("name_or_id", "bad-input-no-such-secret"),),
    "secrets delete": (_names("name_or_id", "bad-input-no-such-secret"),),
    "clean": (
        _values("scope", None, (("unknown", "everything"), ("too long", LONG), ("a path", "/"))),
        _extra("global without --yes and no terminal"),
        _extra("all without --yes and no terminal", scope=["all"]),
        _extra("--force without --yes and no terminal", "--force"),
        _extra("project without --yes (no project here, or no terminal)", scope=["project"]),
        _extra("--force with project", "--force", scope=["project"]),
    ),
}
"""Targeted cases per command path (on top of :func:`generic_cases`)."""


def blank_is_valid(command: Command, param: Param) -> bool:
    """Whether an empty value is valid input for this parameter (so no "empty" case).

    ``kitaru init ''`` means the current directory; for ``stack create``, a
    blank option counts as omitted (SPEC §5.4), except ``--file`` and ``--extra``.
    """
    if (command.path, param.name) == ("init", "path"):
        return True
    return command.path == "stack create" and param.kind == "option" and param.name not in ("file", "extra")


def generic_cases(command: Command, real: Real) -> Iterator[tuple[str, dict[str, list[str]], tuple[str, ...]]]:
    """Cases every command gets, derived from its parameters alone."""
    yield "unknown flag", {}, ("--no-such-flag",)
    yield "unknown flag with a value", {}, ("--no-such-flag=1",)
    yield "--output yaml", {"output": ["--output", "yaml"]}, ()
    yield "--output empty", {"output": ["-o", ""]}, ()
    # An optional argument left out would take the extra value instead (``kitaru login x``).
    base = base_values(command, real)
    if not command.allows_extra_args and all(
        base.get(param.name) for param in command.params if param.kind == "argument"
    ):
        yield "extra argument", {}, ("unexpected-extra-argument",)
    required = [param for param in command.params if param.required]
    if required:
        yield "no arguments at all", {param.name: [] for param in command.params}, ()
    for param in command.params:
        if param.name == "output":
            continue
        flag = param.opts[0] if param.kind == "option" else None
        if param.type_name == "bool" and flag:
            yield f"{flag} given a value", {param.name: [f"{flag}=maybe"]}, ()
        elif param.type_name == "count" and flag:
            yield f"{flag} given a value", {param.name: [f"{flag}=maybe"]}, ()
        elif param.type_name in ("int", "float") and flag:
            yield f"{flag} not a number", {param.name: [flag, "not-a-number"]}, ()
            yield f"{flag} missing its value", {param.name: []}, (flag,)
        elif flag:
            # Last on the line: anywhere else the option would take the next token as its value.
            yield f"{flag} missing its value", {param.name: []}, (flag,)
            if not blank_is_valid(command, param):
                yield f"{flag} empty", {param.name: [flag, ""]}, ()
        elif not blank_is_valid(command, param):
            yield f"{param.name} empty", {param.name: [""]}, ()


def build_cases(commands: list[Command], real: Real) -> list[Case]:
    """Every case for every command: generic ones, then the targeted ones."""
    cases: list[Case] = []
    seen: set[tuple[str, ...]] = set()
    for command in commands:
        base = base_values(command, real)
        producers: list[Targeted] = [generic_cases, *TARGETED.get(command.path, ())]
        for produce in producers:
            for what, changed, extra in produce(command, real):
                unknown = set(changed) - {param.name for param in command.params}
                if unknown:
                    raise AssertionError(f"{command.path}: case '{what}' changes unknown parameters {unknown}")
                argv = (*_argv(command, base, **changed), *extra)
                if argv in seen:
                    continue
                seen.add(argv)
                cases.append(Case(command.path, what, argv, tuple(changed)))
    return cases


def with_json(case: Case) -> Case | None:
    """The same case with ``-o json``.

    None when the case is about ``--output`` itself, or leaves an option's
    value out (the option would take ``-o`` as its value).
    """
    if "--output" in case.argv or "-o" in case.argv or case.what.endswith("missing its value"):
        return None
    return Case(case.command, case.what + " (-o json)", (*case.argv, "-o", "json"), case.params)
