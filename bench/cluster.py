"""A cluster on loopback with real parts (issue 17 §5): nginx → N app nodes, Celery worker and beat, PostgreSQL, Redis, S3.

``make cluster`` runs ``bench/cluster.py up``; ``make cluster-stop`` runs ``bench/cluster.py down``. Everything
lives under ``var/cluster/`` (``KEPUYUE_CLUSTER_DIR``): configuration, logs, pid files, the shared upload
folder. The parts, with their ports (``CLUSTER_PORT``, default 8360, and the next five):

- **nginx** (Debian's ``/usr/sbin/nginx``, its own prefix and configuration, never the system service; started
  as ``nobody`` when this runs as root) on :8360: ``/static/`` from disk, ``/media/`` from the object store's
  public objects, everything else round-robin to the app nodes, GETs that meet a dead node retried on the next.
- **app nodes** (``python -m kepuyue.serve``, one granian worker of 8 threads each) on :8363, :8364, :8365.
- **Celery** worker (two processes, acks late) and beat.
- **PostgreSQL**: the local server (``CLUSTER_PG``, default ``postgres://postgres@127.0.0.1:5432``), database
  ``kepuyue_cluster`` (created when missing, migrated and loaded as ``make data`` does).
- **Redis** on :8362: a ``redis-server`` of its own (cache, sessions, broker, rate limits).
- **S3**: moto's server mode on :8361 — a stand-in for MinIO / 阿里云 OSS / 腾讯云 COS, which are not installable
  here. One bucket ``kepuyue``: public objects at the root (published media, ``public-read``), private ones under
  ``private/`` (signed links only).

Other commands: ``status``, ``env`` (the environment of the app processes, to run ``manage.py`` against the
cluster), ``kill NAME`` / ``start NAME`` (``node1``…, ``worker``, ``beat``: the failure drill uses them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
BUCKET = "kepuyue"
DB_NAME = os.environ.get("CLUSTER_DB", "kepuyue_cluster")


class Cluster:
    """The processes of one loopback cluster; every method is safe to call again."""

    def __init__(
        self,
        base_port: int | None = None,
        folder: Path | None = None,
        nodes: int = 3,
        extra_env=None,
        db: str = "",
    ):
        self.db = db or DB_NAME
        self.base = int(base_port or os.environ.get("CLUSTER_PORT", "8360"))
        self.dir = Path(folder or os.environ.get("KEPUYUE_CLUSTER_DIR", ROOT / "var" / "cluster")).resolve()
        self.nodes = nodes
        self.extra_env = dict(extra_env or {})
        self.pg = os.environ.get("CLUSTER_PG", "postgres://postgres@127.0.0.1:5432")

    # --- ports and names -------------------------------------------------------------------------
    @property
    def nginx_port(self) -> int:
        return self.base

    @property
    def s3_port(self) -> int:
        return self.base + 1

    @property
    def redis_port(self) -> int:
        return self.base + 2

    def node_port(self, n: int) -> int:
        return self.base + 2 + n  # node1 → base + 3

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    def node_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.node_port(n)}"

    def path(self, *parts) -> Path:
        return self.dir.joinpath(*parts)

    @property
    def nginx_dir(self) -> Path:
        """nginx's prefix: under the cluster folder, or — started by root, nginx runs as ``nobody`` — in the
        system temp folder, which ``nobody`` can reach whatever the permissions of the checkout's parents."""
        if os.geteuid() == 0:
            import tempfile

            return Path(tempfile.gettempdir()) / f"kepuyue-cluster-nginx-{self.base}"
        return self.path("nginx")

    def secret_key(self) -> str:
        key = self.path("secret_key")
        if not key.exists():
            import secrets

            key.parent.mkdir(parents=True, exist_ok=True)
            key.write_text(secrets.token_urlsafe(50))
            key.chmod(0o600)
        return key.read_text().strip()

    def env(self) -> dict[str, str]:
        """The environment of every app process (nodes, worker, beat, manage.py)."""
        env = {
            "DJANGO_SETTINGS_MODULE": "kepuyue.settings",
            "SECRET_KEY": self.secret_key(),
            "DATABASE_URL": f"{self.pg}/{self.db}",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "AWS_STORAGE_BUCKET_NAME": BUCKET,
            "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_ACCESS_KEY_ID": "kepuyue-cluster",
            "AWS_SECRET_ACCESS_KEY": "kepuyue-cluster-secret",
            # Public objects through nginx's /media/ (in production: the CDN's domain).
            "AWS_S3_CUSTOM_DOMAIN": f"127.0.0.1:{self.nginx_port}/media",
            "AWS_S3_URL_PROTOCOL": "http:",
            "KEPUYUE_HTTPS": "0",
            "KEPUYUE_BEHIND_PROXY": "1",
            "SITE_URL": self.url,
            "KEPUYUE_VAR_DIR": str(self.path("var")),
            "CALLS_UPLOAD_TEMP_DIR": str(self.path("uploads")),  # one folder for every node (ADR 0026)
            "FILE_UPLOAD_TEMP_DIR": str(self.path("tmp")),
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        }
        env.update(self.extra_env)
        return env

    def _proc_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "KEPUYUE_TEST"))}
        env.update(self.env())
        env["PYTHONPATH"] = str(ROOT / "src")
        return env

    # --- processes -------------------------------------------------------------------------------
    def _pidfile(self, name: str) -> Path:
        return self.path("pids", f"{name}.pid")

    def pid(self, name: str) -> int | None:
        try:
            pid = int(self._pidfile(name).read_text())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def spawn(self, name: str, args: list[str], *, as_user: str | None = None) -> int:
        """Start ``args`` in a new session (its own process group) with the cluster environment; logs to
        ``logs/<name>.log``. Does nothing when ``name`` runs."""
        if (pid := self.pid(name)) is not None:
            return pid
        for sub in ("pids", "logs"):
            self.path(sub).mkdir(parents=True, exist_ok=True)
        log = open(self.path("logs", f"{name}.log"), "ab")  # noqa: SIM115 - handed to the child
        if as_user:
            args = ["setpriv", f"--reuid={as_user}", "--regid=nogroup", "--clear-groups", *args]
        proc = subprocess.Popen(  # noqa: S603 - our own commands
            args,
            cwd=ROOT,
            env=self._proc_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self._pidfile(name).write_text(str(proc.pid))
        return proc.pid

    def kill(self, name: str, sig: int = signal.SIGKILL, wait: float = 10.0) -> bool:
        """Send ``sig`` to the process group of ``name`` (SIGKILL: no clean-up, as a crash) and wait for it."""
        pid = self.pid(name)
        if pid is None:
            self._pidfile(name).unlink(missing_ok=True)
            return False
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                waited, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                waited = pid if not _alive(pid) else 0
            if waited == pid or not _alive(pid):
                break
            time.sleep(0.05)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._pidfile(name).unlink(missing_ok=True)
        return True

    def start(self, name: str) -> int:
        """Start one part by name: ``redis``, ``s3``, ``node<N>``, ``worker``, ``beat``, ``nginx``."""
        if name == "redis":
            self.path("redis").mkdir(parents=True, exist_ok=True)
            return self.spawn(
                "redis",
                [
                    REDIS_SERVER,
                    "--port",
                    str(self.redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.path("redis")),
                ],
            )
        if name == "s3":
            server = Path(PY).with_name("moto_server")
            return self.spawn("s3", [str(server), "-H", "127.0.0.1", "-p", str(self.s3_port)])
        if name.startswith("node"):
            n = int(name[4:])
            return self.spawn(
                name,
                [
                    PY,
                    "-m",
                    "kepuyue.serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.node_port(n)),
                    "--workers",
                    "1",
                    "--threads",
                    # Each thread may hold a PostgreSQL connection: 3 nodes × 8 stay under the default 100.
                    "8",
                ],
            )
        if name == "worker":
            return self.spawn(
                "worker",
                [
                    PY,
                    "-m",
                    "celery",
                    "-A",
                    "kepuyue",
                    "worker",
                    "--concurrency",
                    "2",
                    "--loglevel",
                    "INFO",
                    "--hostname",
                    f"worker@cluster-{self.base}",
                    "--without-gossip",
                    "--without-mingle",
                ],
            )
        if name == "beat":
            return self.spawn(
                "beat",
                [
                    PY,
                    "-m",
                    "celery",
                    "-A",
                    "kepuyue",
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    str(self.path("beat-schedule")),
                    "--pidfile",
                    "",
                ],
            )
        if name == "nginx":
            self.write_nginx_conf()
            user = "nobody" if os.geteuid() == 0 else None
            if user:
                shutil.chown(self.nginx_dir, user)
                for sub in self.nginx_dir.iterdir():
                    shutil.chown(sub, user)
            return self.spawn(
                "nginx",
                [
                    NGINX,
                    "-p",
                    str(self.nginx_dir),
                    "-c",
                    str(self.nginx_dir / "nginx.conf"),
                    "-e",
                    str(self.nginx_dir / "error.log"),
                    "-g",
                    "daemon off;",
                ],
                as_user=user,
            )
        raise SystemExit(f"unknown part {name!r}")

    def write_nginx_conf(self, nodes: int | None = None) -> None:
        nodes = nodes or self.nodes
        folder = self.nginx_dir
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"        server 127.0.0.1:{self.node_port(n)} max_fails=1 fail_timeout=3s;"
            for n in range(1, nodes + 1)
        )
        static_root = self.path("var", "static")
        readable = os.geteuid() != 0 or (
            subprocess.run(  # noqa: S603
                [
                    "setpriv",
                    "--reuid=nobody",
                    "--regid=nogroup",
                    "--clear-groups",
                    "test",
                    "-r",
                    str(static_root),
                ],  # noqa: S607
                check=False,
            ).returncode
            == 0
        )
        static = (
            f'            alias {static_root}/;\n            expires 30d;\n            add_header Cache-Control "public";'
            if readable  # from disk; else (a checkout nobody may read) through the nodes' WhiteNoise
            else f"            proxy_pass http://app;\n            include {folder}/proxy_params.conf;"
        )
        (folder / "proxy_params.conf").write_text(PROXY_PARAMS)
        (folder / "nginx.conf").write_text(
            NGINX_CONF.format(
                prefix=folder,
                servers=servers,
                port=self.nginx_port,
                static=static,
                s3=f"127.0.0.1:{self.s3_port}",
                bucket=BUCKET,
            )
        )

    def reload_nginx(self, nodes: int) -> None:
        """Send traffic to the first ``nodes`` app nodes only (for the 1/2/3-node measurements)."""
        self.write_nginx_conf(nodes)
        pid = self.pid("nginx")
        if pid is not None:
            os.kill(pid, signal.SIGHUP)
            time.sleep(1.0)

    # --- set-up steps ----------------------------------------------------------------------------
    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [PY, "manage.py", *args],
            cwd=ROOT,
            env=self._proc_env(),
            check=check,
            capture_output=True,
            text=True,
        )

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(f"{self.pg}/postgres", autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.db]).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{self.db}"')

    def create_bucket(self) -> None:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{self.s3_port}",
            aws_access_key_id="kepuyue-cluster",
            aws_secret_access_key="kepuyue-cluster-secret",  # noqa: S106 - the stand-in's own key
            region_name="us-east-1",
        )
        try:
            s3.create_bucket(Bucket=BUCKET)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass

    def load_data(self, *, full: bool = True) -> None:
        """Migrate and load as ``make data`` does (every step idempotent); ``full=False`` skips the quiz and
        the sample registrations (the drill does not need them)."""
        steps = [
            ["migrate", "--noinput"],
            ["load_regions"],
            ["load_campaign", "campaigns/kepuyue-2025.yaml"],
            ["import_organizations", "data/bases.csv"],
            ["import_activities", "data/activities.csv", "--campaign", "kepuyue-2025"],
        ]
        if full:
            steps += [
                ["load_quiz", "data/quiz/bank-2024.yaml", "data/quiz/rounds-kepuyue-2025.yaml"],
                ["load_sample_registrations", "--campaign", "kepuyue-2025"],
            ]
        steps.append(["collectstatic", "--noinput", "--verbosity", "0"])
        # One Python process for every step: starting Django costs seconds on a loaded machine.
        script = (
            "import json, sys, time, django\n"
            "django.setup()\n"
            "from django.core.management import call_command\n"
            "timings = {}\n"
            "for step in json.loads(sys.argv[1]):\n"
            "    started = time.monotonic()\n"
            "    call_command(*step)\n"
            "    timings[step[0]] = round(time.monotonic() - started, 1)\n"
            "print('TIMINGS ' + json.dumps(timings))\n"
        )
        done = subprocess.run(  # noqa: S603
            [PY, "-c", script, json.dumps(steps)],
            cwd=ROOT,
            env=self._proc_env(),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(
                f"loading the cluster's database failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}"
            )
        line = next((x for x in done.stdout.splitlines() if x.startswith("TIMINGS ")), "TIMINGS {}")
        self.timings = json.loads(line.removeprefix("TIMINGS "))

    def up(self, *, data: bool = True, full: bool = True, quiet: bool = False) -> None:
        say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
        for sub in ("uploads", "tmp", "var"):
            self.path(sub).mkdir(parents=True, exist_ok=True)
        self.start("redis")
        self.start("s3")
        wait_port(self.redis_port)
        wait_port(self.s3_port)
        self.create_bucket()
        say(f"redis :{self.redis_port}, S3 stand-in (moto) :{self.s3_port}")
        self.create_database()
        if data:
            started = time.monotonic()
            self.load_data(full=full)
            say(f"database {self.db} migrated and loaded ({time.monotonic() - started:.0f} s)")
        for n in range(1, self.nodes + 1):
            self.start(f"node{n}")
        self.start("worker")
        self.start("beat")
        self.start("nginx")
        for n in range(1, self.nodes + 1):
            wait_http(f"{self.node_url(n)}/healthz", timeout=90)
        wait_http(f"{self.url}/healthz", timeout=30)
        say(
            f"app nodes :{self.node_port(1)}–:{self.node_port(self.nodes)}, worker and beat, nginx {self.url}/"
        )
        health = self.health(wait=60)
        say("health: " + ", ".join(f"{k} {'ok' if v else 'FAIL'}" for k, v in health.items()))

    def health(self, wait: float = 0) -> dict[str, bool]:
        """``/health/`` through nginx as ``{check: ok}``; waits up to ``wait`` seconds for all to pass."""
        deadline = time.monotonic() + wait
        while True:
            request = urllib.request.Request(f"{self.url}/health/", headers={"Accept": "application/json"})  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
                    body = response.read()
            except urllib.error.HTTPError as error:
                body = error.read()
            except OSError:
                body = b"{}"
            try:
                found = {k: v == "OK" or v == "working" for k, v in json.loads(body).items()}
            except ValueError:
                found = {}
            if (found and all(found.values())) or time.monotonic() >= deadline:
                return found
            time.sleep(1)

    def down(self) -> None:
        for name in ("nginx", *(f"node{n}" for n in range(1, 10)), "beat", "worker", "s3", "redis"):
            if self.pid(name) is not None:
                self.kill(name, signal.SIGTERM, wait=15)

    def status(self) -> dict[str, int | None]:
        names = ["nginx", *(f"node{n}" for n in range(1, self.nodes + 1)), "worker", "beat", "s3", "redis"]
        return {name: self.pid(name) for name in names}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie of ours counts as dead
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing answers on 127.0.0.1:{port} after {timeout:.0f} s")


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer 200 within {timeout:.0f} s")


NGINX_CONF = """# Written by bench/cluster.py: nginx in front of the app nodes and the object store (ADR 0026).
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 2048; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    sendfile on;
    keepalive_timeout 30;
    # tus PATCH chunks are 8 MB; form posts of works up to the call's limits.
    client_max_body_size 2100m;

    upstream app {{
{servers}
        keepalive 32;
    }}

    server {{
        listen 127.0.0.1:{port};
        server_name _;

        location /static/ {{
{static}
        }}
        # Published media: the store's public objects, never a Python worker (in production: the CDN).
        location /media/ {{
            proxy_pass http://{s3}/{bucket}/;
            proxy_set_header Host {s3};
            proxy_set_header Authorization "";
            proxy_set_header Cookie "";
            limit_except GET HEAD {{ deny all; }}
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }}
        # tus and form uploads stream to the node (which writes the shared upload folder), not nginx's disk.
        location ~ ^/calls/(tus|.*/upload) {{
            proxy_pass http://app;
            proxy_request_buffering off;
            include {prefix}/proxy_params.conf;
        }}
        location / {{
            proxy_pass http://app;
            include {prefix}/proxy_params.conf;
        }}
    }}
}}
"""

PROXY_PARAMS = """proxy_http_version 1.1;
proxy_set_header Connection "";
proxy_set_header Host $http_host;
proxy_set_header X-Forwarded-For $remote_addr;
proxy_set_header X-Forwarded-Proto $scheme;
proxy_connect_timeout 2s;
proxy_read_timeout 120s;
# A GET (or HEAD) that meets a dead or dying node is sent to the next one; a POST/PATCH never is.
proxy_next_upstream error timeout http_502 http_503;
proxy_next_upstream_tries 3;
add_header X-Upstream $upstream_addr always;
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "env", "kill", "start", "health"])
    parser.add_argument("name", nargs="?", help="for kill/start: node1…, worker, beat, nginx, s3, redis")
    parser.add_argument("--nodes", type=int, default=int(os.environ.get("CLUSTER_NODES", "3")))
    parser.add_argument("--no-data", action="store_true", help="do not migrate or load (already done)")
    args = parser.parse_args(argv)
    cluster = Cluster(nodes=args.nodes)
    if args.command == "up":
        cluster.up(data=not args.no_data)
        print(f"科普月集群: {cluster.url}/  (health: {cluster.url}/health/; stop: make cluster-stop)")
    elif args.command == "down":
        cluster.down()
        print("cluster stopped")
    elif args.command == "status":
        for name, pid in cluster.status().items():
            print(f"{name:8} {'running, pid ' + str(pid) if pid else 'stopped'}")
    elif args.command == "env":
        for key, value in cluster.env().items():
            print(f"export {key}='{value}'")
    elif args.command == "health":
        print(json.dumps(cluster.health(), indent=1))
    elif args.command == "kill":
        cluster.kill(args.name)
    elif args.command == "start":
        cluster.start(args.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
