"""A real Airflow 3 deployment on 127.0.0.1 for the scheduler tests: its own AIRFLOW_HOME,
SQLite metadata, LocalExecutor, our ``dags/`` folder, no examples.

Two ways to start it (``mode``): ``components`` runs ``airflow db migrate`` and then the
``scheduler``, ``dag-processor`` and ``api-server`` (what deploy/docker-compose.yaml runs;
no triggerer, nothing of ours defers), each in its own session (``setsid``) with its own log
file; ``standalone`` runs ``airflow standalone`` (which starts the same three plus a
triggerer). Airflow's processes do not all stop when their parent is told to, so ``stop()``
signals each whole process group. Every port (the API, the scheduler's and the triggerer's
log servers, default 8793 and 8794) is picked free, so two stacks never clash.

The REST API (v2) is used with a JWT from the simple auth manager: the password of
``admin`` that the API server generates in AIRFLOW_HOME, exchanged at ``/auth/token``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class StackError(AssertionError):
    """The stack did not do what the test waited for; the message carries the logs' tails."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parse_time(value: str | None) -> datetime | None:
    """An API timestamp (ISO 8601, ``Z`` or an offset) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass
class AirflowStack:
    """``with AirflowStack(home, env={...}) as af: af.api("GET", "/dags")``.

    ``env``: what a deployment's environment gives the components (``NEWSARCHIVE_*``,
    ``AIRFLOW_CONN_*``); it is added to the test process's environment without its
    ``NEWSARCHIVE_*``, ``PYICEBERG_*``, ``AIRFLOW_*`` and ``AWS_*`` variables.
    ``airflow_config``: ``AIRFLOW__*`` settings of this test deployment (intervals).
    """

    home: Path
    env: Mapping[str, str] = field(default_factory=dict)
    airflow_config: Mapping[str, str] = field(default_factory=dict)
    mode: str = "components"
    dags_folder: Path = ROOT / "dags"
    #: seconds to wait for a healthy scheduler and DAG processor (``airflow db migrate`` included)
    startup_timeout: float = 240
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, init=False)
    port: int = field(default=0, init=False)
    token: str = field(default="", init=False, repr=False)
    #: seconds each start-up step took (migrate, healthy, parsed)
    timings: dict[str, float] = field(default_factory=dict, init=False)

    # --- environment ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def logs(self) -> Path:
        """Where the task logs go (AIRFLOW_HOME/logs, Airflow's default)."""
        return self.home / "logs"

    def process_env(self) -> dict[str, str]:
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("NEWSARCHIVE_", "PYICEBERG_", "AIRFLOW", "AWS_", "SCRAPY_"))
        }
        iceberg_home = self.home / "pyiceberg-home"  # pyiceberg reads ~/.pyiceberg.yaml: an empty one
        iceberg_home.mkdir(parents=True, exist_ok=True)
        env = {
            **inherited,
            "HOME": str(iceberg_home),
            "PYICEBERG_HOME": str(iceberg_home),
            # `airflow standalone` starts its components as `airflow …` from PATH
            "PATH": f"{BIN}{os.pathsep}{inherited.get('PATH', '')}",
            # defaults a deployment's environment may replace (the compose file's Postgres)
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            # one secret for every component (each would otherwise make up its own)
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
            **self.airflow_config,
            **self.env,
            # the stack's own: its home, our DAGs, ports no other stack uses
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }
        return env

    # --- processes -----------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str], env: Mapping[str, str]) -> None:
        with (self.home / f"{name}.log").open("ab") as log:  # the child keeps its own descriptor
            self.procs[name] = subprocess.Popen(
                [str(BIN / "airflow"), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env),
                cwd=self.home,
                start_new_session=True,  # setsid: its own process group, stopped as a whole
            )

    def start(self, timeout: float = 240) -> AirflowStack:
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = self.process_env()
        started = time.monotonic()
        if self.mode == "components":
            migrate = subprocess.run(
                [str(BIN / "airflow"), "db", "migrate"],
                capture_output=True,
                text=True,
                env=env,
                cwd=self.home,
                timeout=timeout,
            )
            if migrate.returncode != 0:
                raise StackError(f"airflow db migrate failed:\n{(migrate.stdout + migrate.stderr)[-3000:]}")
            self.timings["migrate"] = time.monotonic() - started
            for name in ("scheduler", "dag-processor", "api-server"):
                self._spawn(name, [name], env)
        elif self.mode == "standalone":
            self._spawn("standalone", ["standalone"], env)
        else:
            raise ValueError(f"mode {self.mode!r}")
        deadline = started + timeout
        self.wait_healthy(deadline)
        self.timings["healthy"] = time.monotonic() - started
        self.token = self.login(deadline)
        return self

    def stop(self) -> None:
        """SIGTERM to every process group, SIGKILL to what is left after 15 s."""
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        end = time.monotonic() + 15
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, end - time.monotonic()))
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group: workers outlive their parent
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)

    def __enter__(self) -> AirflowStack:
        try:
            return self.start(self.startup_timeout)
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what went wrong -----------------------------------------------------------------

    def component_logs(self) -> dict[str, Path]:
        return {p.stem: p for p in sorted(self.home.glob("*.log"))}

    def task_logs(self) -> list[Path]:
        return sorted(p for p in self.logs.rglob("*") if p.is_file() and "dag_id=" in str(p))

    def tails(self, chars: int = 2500) -> str:
        """The end of every component's log and of every task log (for a failure message)."""
        parts = []
        for name, path in [*self.component_logs().items(), *((p.name, p) for p in self.task_logs())]:
            text = path.read_text(errors="replace")
            parts.append(f"----- {name} ({path}) -----\n{text[-chars:]}")
        return "\n".join(parts)

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise StackError(f"airflow {name} exited with {proc.returncode}\n{self.tails()}")

    # --- the API -------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, *, form: bool = False) -> tuple[int, Any]:
        """One HTTP request to the API server; returns (status, decoded JSON or text)."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except json.JSONDecodeError:
            return status, text

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """``/api/v2<path>``; raises with the answer and the logs unless it is a 2xx."""
        status, answer = self.request(method, f"/api/v2{path}", body)
        if not 200 <= status < 300:
            raise StackError(f"{method} /api/v2{path}: {status} {answer}")
        return answer

    def wait_healthy(self, deadline: float) -> None:
        """Until the API answers and reports a healthy scheduler and DAG processor."""
        last: Any = None
        while time.monotonic() < deadline:
            self.check_alive()
            with contextlib.suppress(OSError):
                status, last = self.request("GET", "/api/v2/monitor/health")
                if status == 200 and all(
                    (last.get(part) or {}).get("status") == "healthy" for part in ("scheduler", "dag_processor")
                ):
                    return
            time.sleep(1)
        raise StackError(f"Airflow not healthy in time (last answer: {last})\n{self.tails()}")

    def login(self, deadline: float) -> str:
        """A JWT from the simple auth manager: without credentials when every user is admin
        (the compose file's setting), else for ``admin`` with the password it generated."""
        if self.process_env_value("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS").lower() == "true":
            status, answer = self.request("GET", "/auth/token")
        else:
            path = self.home / "simple_auth_manager_passwords.json.generated"
            while not path.is_file() and time.monotonic() < deadline:
                time.sleep(0.5)
            passwords = json.loads(path.read_text())
            status, answer = self.request("POST", "/auth/token", {"username": "admin", "password": passwords["admin"]})
        if status not in (200, 201):
            raise StackError(f"/auth/token: {status} {answer}")
        return str(answer["access_token"])

    def process_env_value(self, name: str) -> str:
        return str({**self.airflow_config, **self.env}.get(name, ""))

    def wait_for(self, what: str, check: Any, timeout: float, interval: float = 1.0) -> Any:
        """Poll ``check()`` until it returns something truthy; fail with the logs' tails."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise StackError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.tails()}")
            time.sleep(interval)

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        status, answer = self.request("GET", f"/api/v2/dags/{dag_id}")
        return answer if status == 200 else None

    def import_errors(self) -> list[dict[str, Any]]:
        return list(self.api("GET", "/importErrors")["import_errors"])

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns?order_by=run_after")["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"])


def log_times(lines: Iterator[str] | list[str], patterns: Mapping[str, str]) -> dict[str, datetime]:
    """The timestamp of the first line matching each pattern, from Airflow's JSON task log
    lines (``{"timestamp": "…", "event": "…"}``)."""
    found: dict[str, datetime] = {}
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        text = str(record.get("event", ""))
        stamp = parse_time(record.get("timestamp"))
        if stamp is None:
            continue
        for name, pattern in patterns.items():
            if name not in found and re.search(pattern, text):
                found[name] = stamp
    return found


# --- Postgres (the compose file's metadata database and SQL catalog) ----------------------


def postgres_bindir() -> Path | None:
    """Debian's server binaries (package ``postgresql``), newest version first; None without."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    return None


@dataclass
class Postgres:
    """A throwaway cluster on 127.0.0.1 (``initdb`` + ``pg_ctl`` in a temp directory), one
    superuser with a password, as the compose file's ``postgres`` service has. As root (the
    server refuses to run so) it runs as the ``postgres`` user."""

    user: str
    password: str
    bindir: Path
    root: Path = field(default=Path(), init=False)
    port: int = field(default=0, init=False)

    def _as_owner(self, args: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args

    def _run(self, args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(self._as_owner(args), capture_output=True, text=True, timeout=120, **kwargs)
        if out.returncode != 0:
            log = self.root / "postgres.log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise StackError(f"{' '.join(args[:2])} failed: {out.stdout[-2000:]}{out.stderr[-2000:]}\n{tail}")
        return out

    def start(self) -> Postgres:
        import shutil
        import tempfile

        # not under pytest's tmp_path: its parents are closed to the postgres user
        self.root = Path(tempfile.mkdtemp(prefix="newsarchive-pg-"))
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(pwfile, "postgres")
        data = self.root / "data"
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                self.user,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
            ]
        )
        self.port = free_port()
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(self.root / "postgres.log"),
                "-w",
                "start",
            ]
        )
        return self

    def psql(self, database: str, *args: str) -> str:
        env = {**os.environ, "PGPASSWORD": self.password}
        cmd = [str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", database]
        out = subprocess.run(
            [*cmd, "-v", "ON_ERROR_STOP=1", *args], capture_output=True, text=True, env=env, timeout=60
        )
        if out.returncode != 0:
            raise StackError(f"psql {args}: {out.stderr[-2000:]}")
        return out.stdout

    def stop(self) -> None:
        import shutil

        if self.port:
            subprocess.run(
                self._as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"]),
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Postgres:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the compose file's environment ---------------------------------------------------------

_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>))?")


def interpolate(text: str, given: Mapping[str, str]) -> str:
    """Compose's ``${VAR}`` / ``${VAR:-default}`` / ``$$`` with ``given`` (a deploy/.env) as
    the environment; a default may hold braces (``{info_code}``): it ends at the brace that
    closes its ``${``."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        m = _VAR.match(text, i)
        if not m:
            out.append(text[i])
            i += 1
            continue
        j, depth = m.end(), 1
        start = j
        while depth:
            if j >= len(text):
                raise ValueError(f"unclosed ${{ in {text!r}")
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        default = text[start : j - 1] if m.group("default") is not None else ""
        value = given.get(m.group("name"), "")
        out.append(value if value else interpolate(default, given))
        i = j
    return "".join(out)


def compose_airflow_env(compose_file: Path, given: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``x-airflow-common`` environment of a compose file, interpolated as compose does
    with ``given`` (none: every default)."""
    import yaml

    doc = yaml.safe_load(compose_file.read_text())
    env = doc["x-airflow-common"]["environment"]
    return {str(k): interpolate(str(v), given or {}) for k, v in env.items()}
