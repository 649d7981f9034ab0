"""The dashboard's web application: pages and actions over :class:`kitaru.KitaruClient`.

Every page reads through the client, so the dashboard shows the same
executions as ``kitaru executions list`` wherever the client points (the
local default, or a server after ``kitaru login``). Actions call the same
client methods as the CLI: answering a wait and cancelling here, in the
request; resume, retry and replay through the CLI in a child process
(:mod:`kitaru.ui.actions`). Errors are the client's own messages.

Routes:

* ``GET /executions`` (filters ``flow``, ``status``, ``stack``, ``since``)
  and ``GET /executions/rows`` (the table body the page refreshes);
* ``GET /executions/{id}``, its ``/summary`` (polled while it runs),
  ``/logs`` (JSON), ``/artifacts/{artifact_id}`` (preview or download);
* ``POST /executions/{id}/input|abort-wait|cancel|resume|retry|replay``;
* ``GET /actions/{action_id}`` (JSON), ``GET /flows``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from kitaru.client import KitaruClient
from kitaru.client.models import Execution
from kitaru.errors import KitaruError, KitaruStateError, KitaruUsageError
from kitaru.execution.status import ExecutionStatus
from kitaru.stacks.info import list_stacks
from kitaru.ui import views
from kitaru.ui.actions import ActionRunner
from kitaru.ui.previews import render_artifact
from kitaru.ui.security import SECURITY_HEADERS, TOKEN_FIELD, TOKEN_HEADER, allowed_hosts, token_matches
from kitaru.ui.timeline import build_timeline
from kitaru.ui.wait_form import build_form, parse_answer

STATIC_DIR = Path(__file__).with_name("static")

SINCE_CHOICES: dict[str, timedelta | None] = {
    "": None,
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
"""The time filter of the executions list: started within this long."""

LIST_LIMIT = 200
"""The most executions the list shows (newest first)."""

LOG_LIMIT = 500
"""The most log entries one logs request returns."""

DONE_MESSAGES = {
    "input": "Answer sent.",
    "input-resume": "Answer sent; the execution is resuming.",
    "abort-wait": "Wait aborted.",
    "cancel": "Execution cancelled.",
}
"""What the page says after an in-request action succeeded (picked by key, never echoed from the URL)."""


def _templates() -> Environment:
    environment = Environment(
        loader=PackageLoader("kitaru.ui", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Values shown under a name (a checkpoint's parameters) hide secrets by name, as metadata does.
    environment.filters["masked"] = lambda value, key="": views.masked(value, key=key)
    environment.filters["tojson_pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return environment


def _started_within(execution: Execution, window: timedelta | None, now: datetime) -> bool:
    if window is None:
        return True
    started = execution.started_at
    if started is None:
        return False
    started = started if started.tzinfo else started.replace(tzinfo=UTC)
    return now - started <= window


class Dashboard:
    """The dashboard's state for one process: its token, its actions and its client.

    Args:
        token: The per-process token that ``POST`` requests must carry.
        host: The address it is served on (for the Host check).
        port: The port it is served on.
        actions: Where resume, retry and replay run.
    """

    def __init__(self, *, token: str, host: str, port: int, actions: ActionRunner | None = None) -> None:
        self.token = token
        self.hosts = allowed_hosts(host, port)
        self.actions = actions or ActionRunner()
        self.client = KitaruClient()
        self.templates = _templates()

    def warm_up(self) -> None:
        """Load the engine and read the newest execution once, so the first page is served at once.

        Errors are left for the pages to report (with their message).
        """
        try:
            self.client.executions.list(limit=1)
        except Exception:  # the first page shows the same error, with its message
            return

    # -- rendering --------------------------------------------------------------------------

    def page(self, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        """Render a page with the token and navigation every page has."""
        html = self.templates.get_template(template).render(token=self.token, token_field=TOKEN_FIELD, **context)
        return HTMLResponse(html, status_code=status_code)

    # -- executions list --------------------------------------------------------------------

    def list_context(self, query: dict[str, str]) -> dict[str, Any]:
        """The executions matching the list's filters, as rows, with the filters and their choices."""
        flow = query.get("flow", "").strip() or None
        status = query.get("status", "").strip() or None
        stack = query.get("stack", "").strip() or None
        since = query.get("since", "").strip()
        if since not in SINCE_CHOICES:
            raise KitaruUsageError(f"Unknown time filter {since!r}; choose one of: {', '.join(SINCE_CHOICES)}.")
        executions = self.client.executions.list(flow=flow, status=status, limit=LIST_LIMIT)
        now = datetime.now(UTC)
        shown = [
            execution
            for execution in executions
            if (stack is None or execution.stack_name == stack)
            and _started_within(execution, SINCE_CHOICES[since], now)
        ]
        return {
            "rows": [views.execution_row(execution) for execution in shown],
            "filters": {"flow": flow or "", "status": status or "", "stack": stack or "", "since": since},
            "statuses": [str(status) for status in ExecutionStatus],
            "since_choices": [choice for choice in SINCE_CHOICES if choice],
            "query": urlencode({key: value for key, value in query.items() if value}),
            "limit": LIST_LIMIT,
            "truncated": len(executions) >= LIST_LIMIT,
        }

    # -- one execution ----------------------------------------------------------------------

    def execution_context(self, exec_id: str, **extra: Any) -> dict[str, Any]:
        """Everything the execution page shows."""
        execution = self.client.executions.get(exec_id)
        wait = execution.pending_wait
        return {
            "view": views.execution_view(execution),
            "timeline": build_timeline(execution),
            "form": build_form(wait.schema) if wait else None,
            "actions_run": [action.describe() for action in self.actions.for_execution(execution.exec_id)],
            "checkpoint_names": [call.name for call in execution.checkpoints],
            **extra,
        }

    def answer_wait(self, exec_id: str, submitted: dict[str, str]) -> str:
        """Answer the pending wait from the form; resume the execution if asked and nobody else will.

        Returns:
            The key of the message to show (:data:`DONE_MESSAGES`).
        """
        wait = self.client.executions.get(exec_id).pending_wait
        if wait is None:
            raise KitaruStateError(f"Execution {exec_id} has no pending wait to answer; reload the page.")
        if submitted.get("wait_id") not in (None, wait.wait_id):
            raise KitaruStateError(
                f"The wait this form answers was already answered; execution {exec_id} now waits on "
                f"`{wait.name}`. Reload the page to answer it."
            )
        value = parse_answer(build_form(wait.schema), submitted)
        execution = self.client.executions.input(exec_id, wait=wait.wait_id, value=value)
        wants_resume = submitted.get("resume") in ("on", "true", "1")
        # A live owner is still polling for the answer and continues by itself.
        if wants_resume and execution.pending_wait is None and execution.owner is None and (
            str(execution.status) == "waiting"
        ):
            self.actions.start("resume", execution.exec_id)
            return "input-resume"
        return "input"

    def start_replay(self, exec_id: str, submitted: dict[str, str]) -> Any:
        """Start ``kitaru executions replay`` from the replay form (JSON checked before anything starts)."""
        from_ = submitted.get("from", "").strip()
        if not from_:
            raise KitaruUsageError("Choose the checkpoint to replay from.")
        options = ["--from", from_]
        override_call = submitted.get("override_call", "").strip()
        override_text = submitted.get("override_value", "")
        if override_call:
            value = _json_field(override_text, "The override value")
            options += ["--overrides", json.dumps({f"checkpoint.{override_call}": value})]
        elif override_text.strip():
            raise KitaruUsageError("Choose which checkpoint's output the override value replaces.")
        args_text = submitted.get("args", "").strip()
        if args_text:
            flow_inputs = _json_field(args_text, "The flow inputs")
            if not isinstance(flow_inputs, dict):
                raise KitaruUsageError("The flow inputs must be a JSON object, e.g. {\"topic\": \"agents\"}.")
            options += ["--args", json.dumps(flow_inputs)]
        return self.actions.start("replay", exec_id, *options)


def _json_field(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise KitaruUsageError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            "Strings need double quotes, e.g. \"edited notes\"."
        ) from None


class MissingToken(Exception):
    """A change was asked for without the dashboard's token."""


def submitted_form(dashboard: Dashboard) -> Any:
    """A dependency for every ``POST`` route: the submitted form, once its token was checked.

    The token comes as the ``X-Kitaru-Token`` header or the ``csrf_token``
    form field. Reading the form here (and only here) means a route never
    sees a request that skipped the check.

    Raises:
        MissingToken: If the token is missing or wrong (answered with 403).
    """

    async def read(request: Request) -> dict[str, str]:
        form = await request.form()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        given = request.headers.get(TOKEN_HEADER) or fields.get(TOKEN_FIELD)
        if not token_matches(dashboard.token, given):
            raise MissingToken()
        return fields

    return read


def create_app(dashboard: Dashboard) -> FastAPI:
    """Build the FastAPI application serving ``dashboard``."""
    app = FastAPI(title="Kitaru", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        host = request.headers.get("host", "")
        if dashboard.hosts is not None and host not in dashboard.hosts:
            return PlainTextResponse(
                f"This Kitaru dashboard only answers requests for {', '.join(sorted(dashboard.hosts))}.",
                status_code=421,
            )
        if request.method not in ("GET", "HEAD", "POST"):
            return PlainTextResponse("The dashboard only answers GET and POST requests.", status_code=405)
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    checked = Depends(submitted_form(dashboard))

    @app.exception_handler(MissingToken)
    async def missing_token(request: Request, exc: MissingToken) -> Response:
        return PlainTextResponse(
            "This request did not carry the dashboard's token. Reload the page and try again; "
            "changes are only accepted from the dashboard's own pages.",
            status_code=403,
        )

    @app.exception_handler(KitaruError)
    async def kitaru_error(request: Request, exc: KitaruError) -> Response:
        status_code = 400 if isinstance(exc, KitaruUsageError) else 409
        if request.url.path.endswith(("/logs", "/summary")) or request.url.path.startswith("/actions/"):
            return JSONResponse({"error": str(exc)}, status_code=status_code)
        return dashboard.page("error.html", status_code=status_code, message=str(exc))

    @app.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/executions", status_code=303)

    @app.get("/executions")
    def executions(request: Request) -> HTMLResponse:
        return dashboard.page("executions.html", **dashboard.list_context(dict(request.query_params)))

    @app.get("/executions/rows")
    def execution_rows(request: Request) -> HTMLResponse:
        return dashboard.page("execution_rows.html", **dashboard.list_context(dict(request.query_params)))

    @app.get("/executions/{exec_id}")
    def execution(exec_id: str, done: str = "") -> HTMLResponse:
        return dashboard.page("execution.html", **dashboard.execution_context(exec_id, notice=DONE_MESSAGES.get(done)))

    @app.get("/executions/{exec_id}/summary")
    def execution_summary(exec_id: str) -> JSONResponse:
        execution = dashboard.client.executions.get(exec_id)
        return JSONResponse(
            {
                "status": str(execution.status),
                "checkpoints": len(execution.checkpoints),
                "attempts": sum(len(call.attempts) for call in execution.checkpoints),
                "ended_at": execution.ended_at.isoformat() if execution.ended_at else None,
                "pending_wait": execution.pending_wait.wait_id if execution.pending_wait else None,
            }
        )

    @app.get("/executions/{exec_id}/logs")
    def execution_logs(exec_id: str, checkpoint: str = "") -> JSONResponse:
        entries = dashboard.client.executions.logs(exec_id, checkpoint=checkpoint or None, limit=LOG_LIMIT)
        return JSONResponse(
            {
                "entries": [
                    {
                        "time": entry.timestamp,
                        "level": entry.level,
                        "checkpoint": entry.checkpoint_name,
                        "message": entry.message,
                    }
                    for entry in entries
                ]
            }
        )

    @app.get("/executions/{exec_id}/artifacts/{artifact_id}")
    def artifact(exec_id: str, artifact_id: str, download: bool = False) -> Response:
        found = next(
            (item for item in dashboard.client.artifacts.list(exec_id) if item.artifact_id == artifact_id), None
        )
        if found is None:
            raise KitaruStateError(f"Execution {exec_id} has no artifact {artifact_id}.")
        rendered = render_artifact(found)
        if download:
            filename = f"{found.producing_call or found.name}-{artifact_id[:8]}.{rendered.extension}"
            return Response(
                rendered.text,
                media_type=f"{rendered.media_type}; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return JSONResponse({"type": rendered.python_type, "preview": rendered.preview})

    @app.post("/executions/{exec_id}/input")
    def answer(exec_id: str, submitted: dict[str, str] = checked) -> Response:
        try:
            done = dashboard.answer_wait(exec_id, submitted)
        except KitaruError as exc:
            context = dashboard.execution_context(exec_id, error=str(exc), submitted=submitted)
            return dashboard.page("execution.html", status_code=400, **context)
        return RedirectResponse(f"/executions/{exec_id}?done={done}", status_code=303)

    @app.post("/executions/{exec_id}/abort-wait", dependencies=[checked])
    def abort_wait(exec_id: str) -> RedirectResponse:
        wait = dashboard.client.executions.get(exec_id).pending_wait
        if wait is None:
            raise KitaruStateError(f"Execution {exec_id} has no pending wait to abort.")
        dashboard.client.executions.abort_wait(exec_id, wait=wait.wait_id)
        return RedirectResponse(f"/executions/{exec_id}?done=abort-wait", status_code=303)

    @app.post("/executions/{exec_id}/cancel", dependencies=[checked])
    def cancel(exec_id: str) -> RedirectResponse:
        dashboard.client.executions.cancel(exec_id)
        return RedirectResponse(f"/executions/{exec_id}?done=cancel", status_code=303)

    @app.post("/executions/{exec_id}/resume", dependencies=[checked])
    def resume(exec_id: str) -> RedirectResponse:
        dashboard.actions.start("resume", exec_id)
        return RedirectResponse(f"/executions/{exec_id}", status_code=303)

    @app.post("/executions/{exec_id}/retry", dependencies=[checked])
    def retry(exec_id: str) -> RedirectResponse:
        dashboard.actions.start("retry", exec_id)
        return RedirectResponse(f"/executions/{exec_id}", status_code=303)

    @app.post("/executions/{exec_id}/replay")
    def replay(exec_id: str, submitted: dict[str, str] = checked) -> Response:
        try:
            dashboard.start_replay(exec_id, submitted)
        except KitaruError as exc:
            context = dashboard.execution_context(exec_id, replay_error=str(exc), submitted=submitted)
            return dashboard.page("execution.html", status_code=400, **context)
        return RedirectResponse(f"/executions/{exec_id}", status_code=303)

    @app.get("/actions/{action_id}")
    def action(action_id: str) -> JSONResponse:
        found = dashboard.actions.get(action_id)
        if found is None:
            return JSONResponse({"error": f"No action {action_id} in this dashboard."}, status_code=404)
        return JSONResponse(found.describe())

    @app.get("/flows")
    def flows() -> HTMLResponse:
        executions = dashboard.client.executions.list(limit=LIST_LIMIT * 5)
        by_flow: dict[str, dict[str, Any]] = {}
        for item in executions:  # newest first: the first seen is the latest
            name = item.flow_name or "-"
            entry = by_flow.setdefault(
                name, {"name": name, "count": 0, "latest": views.execution_row(item), "statuses": {}}
            )
            entry["count"] += 1
            entry["statuses"][str(item.status)] = entry["statuses"].get(str(item.status), 0) + 1
        return dashboard.page(
            "flows.html",
            flows=sorted(by_flow.values(), key=lambda entry: entry["name"]),
            stacks=list_stacks(),
            counted=len(executions),
        )

    return app


__all__ = ["DONE_MESSAGES", "LIST_LIMIT", "SINCE_CHOICES", "Dashboard", "create_app"]
