"""``kitaru ui``: serve Kitaru's dashboard on this machine.

    kitaru ui                     # http://127.0.0.1:8384, opens the browser
    kitaru ui --port 9000 --no-open

The dashboard reads through ``KitaruClient``, so it shows the executions of
the current connection: the local default, or the server of ``kitaru login``.
It listens on loopback only unless ``--host`` says otherwise. Ctrl-C stops it;
executions it resumed, retried or replayed keep running.
"""

from __future__ import annotations

from typing import Annotated

import typer

from kitaru.cli.output import Item, OutputOption, command
from kitaru.errors import KitaruFeatureNotAvailableError

SERVER_EXTRA_HINT = "The dashboard needs the server extra. Install it with: pip install 'kitaru[server]'"


@command("ui")
def ui(
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0 picks a free one).")] = 8384,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on. Anything but loopback exposes your executions to the network."),
    ] = "127.0.0.1",
    no_open: Annotated[bool, typer.Option("--no-open", help="Do not open a browser.")] = False,
    output: OutputOption = "text",  # noqa: ARG001 (read by @command)
) -> Item:
    """Serve Kitaru's dashboard: executions, checkpoints, waits, costs and replay, in a browser."""
    try:
        import fastapi  # noqa: F401
        import jinja2  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise KitaruFeatureNotAvailableError(f"{SERVER_EXTRA_HINT} ({exc.name} is missing).") from None
    from kitaru.ui.server import serve

    try:
        listening = serve(host=host, port=port, open_browser=not no_open, announce=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        listening = None
    url = listening.url if listening else f"http://{host}:{port}"
    return Item({"url": url, "stopped": True}, text=lambda: "Kitaru dashboard stopped.")


def register(app: typer.Typer) -> None:
    """Add ``kitaru ui``."""
    app.command("ui")(ui)
