"""The warm helper: read commands answered by a process that has the engine loaded.

Every ``kitaru`` command that reads the store used to pay for starting the
engine: about two thirds of ``kitaru executions list`` was importing ZenML,
and a third configuring its store. The warm helper removes both from every
read after the first, the way Gradle's daemon and ``dmypy`` do::

    kitaru executions list      # cold: runs in-process, and leaves a helper behind
    kitaru executions list      # warm: the helper forks, the fork runs the command

How it works:

* **One helper per context.** A helper serves one config dir, working
  directory, Python, Kitaru version and set of engine-relevant environment
  variables (:mod:`kitaru.cli.warm.identity`); a command from any other
  context finds no helper and runs in-process. The helper listens on a Unix
  socket in an owner-only folder and answers only its own user.
* **Born warm.** The first in-process read command loads the engine, then
  forks the helper from that warm state before it runs the command
  (:func:`kitaru.cli.warm.server.start_helper`), so starting a helper costs
  a fork, not a second engine import.
* **A fresh fork per command.** For each command the helper forks again; the
  fork takes the caller's terminal (its stdin, stdout and stderr are handed
  over the socket), environment and directory, runs exactly the code the
  in-process CLI runs, and reports the exit code. Every command starts from
  the same warm state, never from what an earlier command left behind, and
  reads the store anew: nothing is cached between commands, so nothing is
  stale, and flows writing the store meanwhile are seen as by any reader.
* **Never out of date.** The helper records a fingerprint of everything it
  loaded at birth (Kitaru's code, the installed packages, the config dir's
  files, the project's config files); a command whose fingerprint differs
  stops the helper and runs in-process (:mod:`kitaru.cli.warm.identity`).
  It exits by itself after ``KITARU_DAEMON_IDLE_SECONDS`` (default 600)
  without a command.
* **Invisible when it fails.** ``KITARU_NO_DAEMON=1`` turns it off. A
  missing, dead or refusing helper means the command runs in-process; a
  helper that dies in the middle of a command is reported with a clear
  message (:mod:`kitaru.cli.warm.client`).

Only commands that read are routed (:data:`kitaru.cli.warm.identity.READ_COMMANDS`);
a command that changes anything always runs in the caller's own process.
"""
