"""Serve the dashboard: bind the socket, say where it is, and run until stopped.

The socket is bound and listening before the address is printed, so anything
that reads the printed address (a browser, a test) can connect at once: the
kernel queues the connection until the server accepts it. Port 0 picks a
free port, and the printed address has the real one.
"""

from __future__ import annotations

import errno
import socket
import threading
import webbrowser
from dataclasses import dataclass

from kitaru.errors import KitaruUsageError
from kitaru.ui.app import Dashboard, create_app
from kitaru.ui.security import is_loopback, new_token

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8384


@dataclass(frozen=True)
class Listening:
    """Where the dashboard listens."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """The address to open (``http://127.0.0.1:8384``)."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}"


def bind(host: str, port: int) -> socket.socket:
    """Bind and listen on ``host:port``.

    Raises:
        KitaruUsageError: If the host is empty, the port is out of range or
            taken, or the address cannot be bound; the message says what to do.
    """
    if not host.strip():
        # An empty address would bind every interface: refuse it rather than expose the dashboard silently.
        raise KitaruUsageError(
            "--host is empty. Give an address to listen on: 127.0.0.1 (this machine only, the default) "
            "or 0.0.0.0 (every interface)."
        )
    if host != host.strip():
        raise KitaruUsageError(f"--host {host!r} has spaces around it; give the address alone, e.g. 127.0.0.1.")
    if not 0 <= port <= 65535:
        raise KitaruUsageError(f"--port must be between 1 and 65535 (or 0 for any free port); got {port}.")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise KitaruUsageError(
                f"Port {port} on {host} is already in use (another `kitaru ui`?). Open that one, stop it, "
                "or pick another port with --port."
            ) from None
        raise KitaruUsageError(f"Cannot serve the dashboard on {host}:{port}: {exc.strerror or exc}.") from None
    sock.listen(128)
    return sock


def serve(*, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, open_browser: bool = True,
          announce: object = print) -> Listening:
    """Serve the dashboard until interrupted (Ctrl-C).

    Args:
        host: The address to listen on; loopback unless the user chose another.
        port: The port (0 for any free one).
        open_browser: Open the dashboard in the default browser once listening.
        announce: Called with each line to show the user (``print`` by default).

    Returns:
        Where it listened, once it has stopped.
    """
    import uvicorn

    sock = bind(host, port)
    listening = Listening(host=host, port=int(sock.getsockname()[1]))
    dashboard = Dashboard(token=new_token(), host=host, port=listening.port)
    app = create_app(dashboard)
    # Loading the engine takes a few seconds; do it while the browser opens, not on the first page.
    threading.Thread(target=dashboard.warm_up, name="kitaru-ui-warm-up", daemon=True).start()
    say = announce if callable(announce) else print
    say(f"Kitaru dashboard: {listening.url} (Ctrl-C to stop)")
    if not is_loopback(host):
        say(
            f"Warning: serving beyond this machine on {host}: anyone who can reach it can read your executions "
            "(changes still need the page's token)."
        )
    if open_browser:
        webbrowser.open(listening.url)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return listening


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "Listening", "bind", "serve"]
