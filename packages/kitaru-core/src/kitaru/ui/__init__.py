"""Kitaru's dashboard: ``kitaru ui`` serves executions, checkpoint calls, waits and costs in a browser.

Server-rendered pages (FastAPI and Jinja templates, with a small script of
our own; every asset is served locally) read through
:class:`kitaru.KitaruClient`, so the dashboard works on the local default
without a server and against a server after ``kitaru login``.

* :mod:`kitaru.ui.server` binds the socket and runs the app;
* :mod:`kitaru.ui.app` has the routes;
* :mod:`kitaru.ui.views`, :mod:`kitaru.ui.timeline`, :mod:`kitaru.ui.wait_form`
  and :mod:`kitaru.ui.previews` decide what the pages show;
* :mod:`kitaru.ui.actions` runs resume, retry and replay through the CLI;
* :mod:`kitaru.ui.security` has the per-process token and the Host check.

Needs the ``server`` extra (``pip install 'kitaru[server]'``) for FastAPI,
Jinja and uvicorn.
"""
