"""A team's shared setup, started by the tests: MariaDB, S3, the engine's server, four clients.

Everything runs on 127.0.0.1 in processes these fixtures start and stop (no
system service, no Docker):

* ``mariadb``: Debian's MariaDB (``mariadb-install-db`` + ``mariadbd``) with
  its own data dir and a free port, a database and a user with a password.
  Without the binaries the tests skip, except in CI (``CI`` set), where they
  fail: ``.ci/run`` installs them (``apt-get install mariadb-server``).
* ``s3_bucket``: moto's S3 server in a subprocess, with one bucket.
* ``team_server``: the engine's server on that database, started the way the
  engine's image runs it (``uvicorn zenml.zen_server.zen_server_api:app``),
  after the engine's migrations ran on the empty database; its admin creates
  service accounts, API keys and users through the REST API.
* ``team``: four client config dirs, each logged in with its own API key
  (``kitaru login URL --api-key -``), all using the stack ``team-s3`` whose
  artifact store is the bucket (client 1 creates it, the others
  ``kitaru stack use`` it).

The fixtures are session-scoped: the setup costs about a minute, so every
test in ``tests/team`` shares it. Timings (setup, migration) are printed in
the terminal summary.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.aws.conftest import AWS_TEST_ENV, AWS_VARS_TO_CLEAR, MOTO_SERVER, TEST_REGION
from tests.cloud.servers import answers_http, free_port, port_is_open, running_server
from tests.conftest import subprocess_env

HERE = Path(__file__).resolve().parent
KITARU = Path(sys.executable).with_name("kitaru")
STACK = "team-s3"
CLIENTS = 4
READY_TIMEOUT = 120.0
"""Seconds a server (MariaDB, the engine's server) gets to answer; generous for a loaded CI machine."""

TIMINGS: dict[str, float] = {}
"""Seconds each part of the setup took (printed in the terminal summary)."""


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in TIMINGS.items())
        terminalreporter.write_line(f"team setup: {parts}")


def needs(what: str, install: str) -> NoReturn:
    """Skip a test that needs a Debian package; fail in CI (``CI`` set), where ``.ci/run`` installs it."""
    reason = f"this test needs {what} (apt-get install {install}); not found"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def clock_ahead(seconds: int) -> dict[str, str]:
    """Environment that runs a client's clock ``seconds`` ahead of the server's (Debian's ``faketime``).

    Only the wall clock moves; monotonic clocks (timeouts, durations) do not.
    """
    libraries = sorted(Path("/usr/lib").glob("*/faketime/libfaketimeMT.so.1"))
    if not libraries:
        needs("libfaketime", "faketime")
    return {"LD_PRELOAD": str(libraries[0]), "FAKETIME": f"+{seconds}s", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


# -- MariaDB ------------------------------------------------------------------------------


def mariadb_binaries() -> tuple[str, str]:
    """``mariadb-install-db`` and ``mariadbd``; skip (fail in CI) when they are missing."""
    install = shutil.which("mariadb-install-db")
    server = shutil.which("mariadbd") or (os.path.exists("/usr/sbin/mariadbd") and "/usr/sbin/mariadbd") or None
    if not (install and server):
        needs("Debian's MariaDB", "mariadb-server")
    return str(install), str(server)


class MariaDB:
    """A MariaDB server with its own data dir, on a loopback port, restartable.

    Attributes:
        root: Its directory (data dir, socket, log).
        port: The TCP port it listens on.
        database: The database the engine's server uses.
        user: That database's user (password authentication over TCP).
        password: The user's password.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.database = "kitaru"
        self.user = "kitaru"
        self.password = secrets.token_hex(12)
        self.process: subprocess.Popen[bytes] | None = None
        self._install, self._server = mariadb_binaries()

    @property
    def url(self) -> str:
        """The engine's store URL for this database."""
        return f"mysql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    @property
    def socket(self) -> Path:
        return self.root / "mariadb.sock"

    def install(self) -> None:
        """Create the data dir (system tables; root may connect over the socket)."""
        command = [
            self._install,
            "--no-defaults",
            f"--datadir={self.root / 'data'}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ]
        if os.geteuid() == 0:
            command.append("--user=root")
        result = subprocess.run(command, capture_output=True, text=True, timeout=READY_TIMEOUT)
        assert result.returncode == 0, f"mariadb-install-db failed:\n{result.stdout}\n{result.stderr}"

    def start(self) -> None:
        """Start ``mariadbd`` and wait until it accepts connections."""
        command = [
            self._server,
            "--no-defaults",
            f"--datadir={self.root / 'data'}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--socket={self.socket}",
            f"--pid-file={self.root / 'mariadb.pid'}",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=64M",
            f"--log-error={self.root / 'mariadb.err'}",
        ]
        if os.geteuid() == 0:
            command.append("--user=root")  # mariadbd refuses to run as root otherwise
        with (self.root / "mariadb.out").open("ab") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + READY_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.root / "mariadb.err").read_text() if (self.root / "mariadb.err").exists() else ""
                self.stop()
                pytest.fail(f"mariadbd did not start:\n{log}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop ``mariadbd`` (SIGTERM, then SIGKILL after 60 s)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def create_database(self) -> None:
        """Create the database and its user (as root, over the socket)."""
        import pymysql

        connection = pymysql.connect(unix_socket=str(self.socket), user="root")
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE `{self.database}`")
                cursor.execute(f"CREATE USER '{self.user}'@'127.0.0.1' IDENTIFIED BY '{self.password}'")
                cursor.execute(f"GRANT ALL PRIVILEGES ON `{self.database}`.* TO '{self.user}'@'127.0.0.1'")
            connection.commit()
        finally:
            connection.close()

    def _answers(self) -> bool:
        import pymysql

        if not port_is_open(self.port):
            return False
        try:
            pymysql.connect(unix_socket=str(self.socket), user="root", connect_timeout=2).close()
        except pymysql.MySQLError:
            return False
        return True


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    """A running MariaDB with an empty database ``kitaru`` and its user."""
    started = time.monotonic()
    database = MariaDB(tmp_path_factory.mktemp("mariadb"))
    database.install()
    database.start()
    try:
        database.create_database()
        TIMINGS["mariadb"] = time.monotonic() - started
        yield database
    finally:
        database.stop()


# -- S3 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Bucket:
    """A bucket in moto's S3 server, and what a client needs to reach it."""

    endpoint: str
    name: str

    @property
    def uri(self) -> str:
        return f"s3://{self.name}/kitaru"


@pytest.fixture(scope="session")
def s3_bucket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Bucket]:
    """moto's S3 server in a subprocess, with the bucket ``team``."""
    import boto3

    port = free_port()
    with running_server(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        name="moto_server",
        log=tmp_path_factory.mktemp("moto") / "moto.log",
        ready=lambda: port_is_open(port),
        env={**os.environ, **AWS_TEST_ENV},
        timeout=READY_TIMEOUT,
    ):
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=TEST_REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket="team")
        yield S3Bucket(endpoint, "team")


# -- the engine's server ------------------------------------------------------------------

MIGRATE = """
import json, sys, time
from zenml.zen_stores.sql_zen_store import SqlZenStore, SqlZenStoreConfiguration
started = time.perf_counter()
SqlZenStore(config=SqlZenStoreConfiguration(url=sys.argv[1]), skip_default_registrations=True)
print(json.dumps({"seconds": time.perf_counter() - started}))
"""
"""Run the engine's migration chain on the database (what the server does at start-up)."""


class TeamServer:
    """The engine's server on MariaDB, as its image runs it, with an admin account.

    Attributes:
        root: Its directory (config dir, log).
        port: Its port on 127.0.0.1.
        store_url: The database URL it uses.
        admin: The admin's user name; ``admin_password`` its password.
    """

    def __init__(self, root: Path, store_url: str) -> None:
        self.root = root
        self.port = free_port()
        self.store_url = store_url
        self.admin = "admin"
        self.admin_password = secrets.token_hex(12)
        self.jwt_secret = secrets.token_hex(32)  # fixed, so tokens survive a restart
        self.secrets_key = secrets.token_hex(32)  # the server encrypts secret values at rest
        self.process: subprocess.Popen[bytes] | None = None
        self._token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def environment(self) -> dict[str, str]:
        """The server's environment: the variables a team sets on the engine's image."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KITARU_", "ZENML_"))}
        env.update(
            ZENML_STORE_URL=self.store_url,
            ZENML_CONFIG_PATH=str(self.root / "config"),
            ZENML_SERVER_JWT_SECRET_KEY=self.jwt_secret,
            ZENML_SERVER_AUTO_ACTIVATE="true",
            ZENML_DEFAULT_USER_NAME=self.admin,
            ZENML_DEFAULT_USER_PASSWORD=self.admin_password,
            ZENML_SECRETS_STORE_ENCRYPTION_KEY=self.secrets_key,
            ZENML_ANALYTICS_OPT_IN="false",
            # A shared server must not lend its own cloud identity to its users.
            ZENML_ENABLE_IMPLICIT_AUTH_METHODS="false",
        )
        return env

    def migrate(self) -> float:
        """Run the migration chain; return the seconds it took (the import excluded)."""
        result = subprocess.run(
            [sys.executable, "-c", MIGRATE, self.store_url],
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"migration failed:\n{result.stdout}\n{result.stderr}"
        return float(json.loads(result.stdout.strip().splitlines()[-1])["seconds"])

    def start(self) -> None:
        """Start the server and wait until ``/health`` answers."""
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "zenml.zen_server.zen_server_api:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-server-header",
            "--proxy-headers",
            "--forwarded-allow-ips",
            "*",
        ]
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=self.environment())
        deadline = time.monotonic() + READY_TIMEOUT
        while not answers_http(f"{self.url}/health"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the engine's server did not start:\n{self.log.read_text()[-5000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 30 s)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    # -- the REST API, as the admin ------------------------------------------------------

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call ``/api/v1<path>`` as the admin and return the JSON answer."""
        if self._token is None:
            self._token = self.login(self.admin, self.admin_password)
        return _request(method, f"{self.url}/api/v1{path}", body, token=self._token)

    def login(self, username: str, password: str) -> str:
        """A bearer token for a user (the password login of the REST API)."""
        answer = _request("POST", f"{self.url}/api/v1/login", {"username": username, "password": password}, form=True)
        return str(answer["access_token"])

    def create_api_key(self, account: str) -> str:
        """Create a service account and an API key for it; return the key."""
        created = self.api("POST", "/service_accounts", {"name": account, "active": True})
        key = self.api("POST", f"/service_accounts/{created['id']}/api_keys", {"name": f"{account}-key"})
        return str(key["body"]["key"])

    def create_user(self, name: str, password: str) -> None:
        """Create a (non-admin) user who logs in with a password."""
        self.api("POST", "/users", {"name": name, "password": password, "active": True, "is_admin": False})


def _request(
    method: str, url: str, body: dict[str, Any] | None, *, token: str | None = None, form: bool = False
) -> Any:
    headers: dict[str, str] = {}
    data = None
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        pytest.fail(f"{method} {url} answered {exc.code}: {exc.read()[:2000]!r}")


@pytest.fixture(scope="session")
def team_server(mariadb: MariaDB, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamServer]:
    """The engine's server on the (empty) MariaDB database, migrated and running."""
    server = TeamServer(tmp_path_factory.mktemp("team-server"), mariadb.url)
    TIMINGS["migration"] = server.migrate()
    started = time.monotonic()
    server.start()
    TIMINGS["server start"] = time.monotonic() - started
    try:
        yield server
    finally:
        server.stop()


# -- clients ------------------------------------------------------------------------------


@dataclass
class Client:
    """One person's or machine's Kitaru: a config dir logged in with its own API key.

    All clients share one project directory (the team's repository checkout),
    so each can import the flows another started.
    """

    name: str
    config: Path
    project: Path
    aws: dict[str, str]
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        environment = subprocess_env(self.config, COLUMNS="200", NO_COLOR="1", **self.aws, **self.extra_env)
        for name in AWS_VARS_TO_CLEAR:
            environment.pop(name, None)
        environment.update(extra)
        return environment

    def kitaru(
        self, *args: str, stdin: str | None = None, timeout: float = 300, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        """Run the real ``kitaru`` CLI as this client."""
        return subprocess.run(
            [str(KITARU), *args],
            cwd=self.project,
            env=self.env(**extra),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def flow(self, *args: str, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess[str]:
        """Run ``team_flows.py ARGS`` as this client."""
        return subprocess.run(
            [sys.executable, "team_flows.py", *args],
            cwd=self.project,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start_flow(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        """Start ``team_flows.py ARGS`` as this client without waiting for it."""
        return subprocess.Popen(
            [sys.executable, "team_flows.py", *args],
            cwd=self.project,
            env=self.env(**extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@dataclass
class Team:
    """The shared server, the bucket and the clients (``clients[0]`` is client 1)."""

    server: TeamServer
    bucket: S3Bucket
    clients: list[Client]
    project: Path


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """stdout of a command that must have succeeded."""
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def json_item(result: subprocess.CompletedProcess[str]) -> Any:
    """The ``item`` of a successful ``-o json`` command."""
    return json.loads(ok(result))["item"]


def outcome(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON line ``team_flows.py`` ends with."""
    return dict(json.loads(ok(result).strip().splitlines()[-1]))


def aws_settings(root: Path, bucket: S3Bucket) -> dict[str, str]:
    """Test-only AWS settings for a client: moto's keys, no profiles of the developer's."""
    config_file, credentials_file = root / "aws-config", root / "aws-credentials"
    config_file.write_text("")
    credentials_file.write_text("")
    return {**AWS_TEST_ENV, "AWS_CONFIG_FILE": str(config_file), "AWS_SHARED_CREDENTIALS_FILE": str(credentials_file)}


@pytest.fixture(scope="session")
def team(team_server: TeamServer, s3_bucket: S3Bucket, tmp_path_factory: pytest.TempPathFactory) -> Team:
    """Four clients, each logged in with its own API key, on the stack ``team-s3``."""
    started = time.monotonic()
    root = tmp_path_factory.mktemp("team")
    project = root / "project"
    project.mkdir()
    shutil.copy(HERE / "team_flows.py", project / "team_flows.py")
    aws = aws_settings(root, s3_bucket)
    clients = []
    for number in range(1, CLIENTS + 1):
        config = root / f"client-{number}"
        config.mkdir()
        clients.append(Client(f"client-{number}", config, project, aws))
    # Logging in is mostly the CLI importing the engine: all four at once.
    logins = [
        subprocess.Popen(
            [str(KITARU), "login", team_server.url, "--api-key", "-", "-o", "json"],
            cwd=project,
            env=client.env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for client in clients
    ]
    for client, login in zip(clients, logins, strict=True):
        stdout, stderr = login.communicate(team_server.create_api_key(client.name) + "\n", timeout=300)
        assert login.returncode == 0, f"{client.name} login failed:\n{stdout}\n{stderr}"
        assert json.loads(stdout)["item"] == {"mode": "remote", "url": team_server.url, "project": "default"}
    created = json_item(
        clients[0].kitaru(
            "stack",
            "create",
            STACK,
            "--artifact-store",
            s3_bucket.uri,
            "--extra",
            f"artifact_store.client_kwargs.endpoint_url={s3_bucket.endpoint}",
            "-o",
            "json",
        )
    )
    assert created["is_active"], created
    uses = [
        subprocess.Popen(
            [str(KITARU), "stack", "use", STACK, "-o", "json"],
            cwd=project,
            env=client.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for client in clients[1:]
    ]
    for use in uses:
        stdout, stderr = use.communicate(timeout=300)
        assert use.returncode == 0, f"stack use failed:\n{stdout}\n{stderr}"
    TIMINGS["clients"] = time.monotonic() - started
    return Team(team_server, s3_bucket, clients, project)
