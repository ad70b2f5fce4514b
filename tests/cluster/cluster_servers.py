"""Real servers for the cluster tests and bench/cluster.py: redis-server and nginx from
Debian's packages (`make test` installs them when missing), and app instances, each on a
free loopback port with its files in a temporary folder.

nginx runs the repository's own routing (deploy/nginx/backprop.conf); only the two files it
includes for the upstreams and the listen port are written here.
"""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parents[2]
SBIN = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")


def binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in SBIN:
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    return None


EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
_given: set[int] = set()


def free_port() -> int:
    """A loopback port free now, below the kernel's ephemeral range and not given before. A
    port from inside that range (what a bind to port 0 gives) can be taken by any outgoing
    connection before the server it was meant for binds it: an instance died of "address
    already in use" that way."""
    low = int(EPHEMERAL.read_text().split()[0]) if EPHEMERAL.exists() else 32768
    while True:
        port = random.randrange(max(1024, low - 12_000), low)
        if port in _given:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:   # another program listens there
                continue
        _given.add(port)
        return port


def wait_for(check, what: str, seconds: float = 60.0, every: float = 0.05):
    """check() until it answers something true; the reason in the failure."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            found = check()
            if found:
                return found
        except (OSError, httpx.TransportError, redis.RedisError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen in {seconds:.0f} s")
        time.sleep(every)


class Redis:
    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._client: redis.Redis | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [binary("redis-server"), str(ROOT / "deploy" / "redis.conf"),
             "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--protected-mode", "yes", "--daemonize", "no", "--save", "",
             "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: self.client().ping(), "redis-server answering")

    def client(self) -> redis.Redis:
        """One client for the test's own looks into Redis (it reconnects after a restart)."""
        if self._client is None:
            self._client = redis.Redis.from_url(self.url, socket_timeout=5)
        return self._client

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()   # SIGTERM: Redis writes its append-only file and exits
            self.process.wait(30)
        self.process = None


class Instance:
    """One app instance: `python -m app` on its own port, Redis between it and the others."""

    def __init__(self, folder: Path, redis_url: str, name: str, **settings) -> None:
        self.folder, self.name, self.port = folder / name, name, free_port()
        self.folder.mkdir()
        self.env = {
            **os.environ, "BACKPROP_REDIS_URL": redis_url, "BACKPROP_WORKERS": "1",
            "BACKPROP_DATA_DIR": str(self.folder), "BACKPROP_SNAPSHOT_SECONDS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            **{f"BACKPROP_{k.upper()}": str(v) for k, v in settings.items()},
        }
        self.process: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log = open(self.folder / "instance.log", "ab")   # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "--port", str(self.port)],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait(self) -> None:
        def serving() -> bool:
            if self.process.poll() is not None:   # it died: say why at once, not in 120 s
                raise RuntimeError(f"instance {self.name} exited:\n{self.output()}")
            return httpx.get(f"{self.base}/api/presets", timeout=2).status_code == 200

        wait_for(serving, f"instance {self.name} serving", seconds=120)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """kill -9: no goodbye, no last snapshot."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        self.process = None
        self.log.close()

    def output(self) -> str:
        return (self.folder / "instance.log").read_text(errors="replace")


class Nginx:
    def __init__(self, folder: Path, instances: list[Instance]) -> None:
        self.folder, self.port = folder / "nginx", free_port()
        self.instances = instances
        self.process: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{self.port}"

    def configure(self) -> Path:
        site = self.folder / "backprop"
        site.mkdir(parents=True)
        (site / "backprop.conf").symlink_to(ROOT / "deploy" / "nginx" / "backprop.conf")
        (site / "upstreams.inc").write_text("".join(
            f"server 127.0.0.1:{i.port} max_fails=1 fail_timeout=5s;\n" for i in self.instances))
        (site / "listen.inc").write_text(f"listen 127.0.0.1:{self.port};\n")
        temp = "".join(f"    {kind}_temp_path {self.folder / kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        user = "user root;\n" if os.geteuid() == 0 else ""   # its temp folders are ours
        main = self.folder / "nginx.conf"
        main.write_text(
            f"{user}worker_processes auto;\ndaemon off;\npid {self.folder / 'nginx.pid'};\n"
            f"error_log {self.folder / 'error.log'} warn;\nworker_rlimit_nofile 20000;\n"
            "events { worker_connections 8192; }\n"
            f"http {{\n    access_log off;\n{temp}    include backprop/backprop.conf;\n}}\n"
        )
        return main

    def start(self) -> None:
        main = self.configure()
        with open(self.folder / "stderr.log", "wb") as stderr:   # nginx holds its own copy
            self.process = subprocess.Popen(
                [binary("nginx"), "-p", str(self.folder), "-c", str(main)],
                stdout=subprocess.DEVNULL, stderr=stderr,
            )
        wait_for(lambda: httpx.get(f"{self.base}/api/presets", timeout=2).status_code == 200,
                 "nginx passing requests on")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        self.process = None


class Cluster:
    """Redis, `count` instances and nginx in front of them, in one temporary folder."""

    def __init__(self, count: int = 2, **settings) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="backprop-cluster-"))
        self.redis = Redis(self.folder)
        self.nginx = Nginx(self.folder, [])
        self.instances = [Instance(self.folder, self.redis.url, f"app{i + 1}",
                                   router_url=self.nginx.base, **settings)
                          for i in range(count)]
        self.nginx.instances = self.instances

    def start(self) -> "Cluster":
        try:
            self.redis.start()
            for instance in self.instances:   # started together: they warm up side by side
                instance.start()
            for instance in self.instances:
                instance.wait()
            self.nginx.start()
        except BaseException:
            self.stop()
            raise
        return self

    def owner(self, session_id: str) -> Instance | None:
        """The instance that owns a session now (its pid is in the lease's value)."""
        found = self.redis.client().get(f"bp:owner:{session_id}")
        if found is None:
            return None
        pid = int(found.decode().rsplit("-", 2)[1])
        return next((i for i in self.instances if i.process and i.pid == pid), None)

    def stop(self) -> None:
        self.nginx.stop()
        for instance in self.instances:
            if instance.process is not None:
                instance.stop()
        self.redis.stop()

    def logs(self) -> str:
        parts = [f"--- {i.name} ---\n{i.output()[-4000:]}" for i in self.instances]
        error = self.nginx.folder / "error.log"
        if error.exists():
            parts.append(f"--- nginx ---\n{error.read_text()[-2000:]}")
        return "\n".join(parts)

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def missing() -> list[str]:
    return [name for name in ("redis-server", "nginx") if binary(name) is None]
