"""Plumbing for the benchmarks: timing, percentiles, a throwaway PostgreSQL cluster, the real web server,
and a keep-alive HTTP client. Nothing here imports Django, so it can run before settings are chosen."""

import contextlib
import http.client
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


# ---------------------------------------------------------------- numbers

def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile: the value below which `pct` per cent of the samples fall."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def p50_p95(samples_s: list[float]) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds."""
    return percentile(samples_s, 50) * 1000, percentile(samples_s, 95) * 1000


@contextlib.contextmanager
def stopwatch(label: str, sink: dict | None = None, key: str | None = None):
    """Print how long a block took; store the seconds in sink[key] when asked."""
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    if sink is not None:
        sink[key or label] = elapsed
    print(f"    {label}: {elapsed:.2f} s", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- PostgreSQL

def find_pg_bin() -> Path | None:
    """The PostgreSQL server binaries, as scripts/test.sh finds them."""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout
        bindir = Path(out.strip())
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir

    def version(p: Path) -> tuple:
        return tuple(int(x) if x.isdigit() else 0 for x in p.parent.name.split("."))

    for bindir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True):
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None


class ThrowawayPostgres:
    """A private PostgreSQL cluster on a random loopback port, deleted on exit.

    As root, initdb and postgres must run as the `postgres` system user. Durability settings are the
    defaults (fsync on): intake numbers with fsync off would flatter the product.
    """

    def __init__(self, dbname: str = "qinqing_bench", shared_buffers: str = "1GB"):
        self.dbname = dbname
        self.shared_buffers = shared_buffers
        self.bin = find_pg_bin()
        if self.bin is None:
            raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql), "
                             "or pass --database-url.")
        self.dir: Path | None = None
        self.port = 0
        self.pid = 0
        self.started = False

    def _as_pg(self, *cmd, **kwargs):
        cmd = [str(c) for c in cmd]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, cwd=self.dir, check=True, **kwargs)

    def __enter__(self) -> "ThrowawayPostgres":
        self.dir = Path(tempfile.mkdtemp(prefix="qinqing-bench-pg."))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.port = free_port()
        data = self.dir / "data"
        self._as_pg(self.bin / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                    "--locale=C", stdout=subprocess.DEVNULL)
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir}"
                   f" -c shared_buffers={self.shared_buffers} -c max_wal_size=4GB")
        self._as_pg(self.bin / "pg_ctl", "-D", data, "-l", self.dir / "server.log", "-w", "-t", "60",
                    "-o", options, "start", stdout=subprocess.DEVNULL)
        self.started = True
        self.pid = int((data / "postmaster.pid").read_text().split()[0])
        subprocess.run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        self.dbname], check=True)
        version = subprocess.run([str(self.bin / "postgres"), "--version"], capture_output=True, text=True)
        print(f"==> Throwaway cluster: {version.stdout.strip()} on 127.0.0.1:{self.port} ({self.dir})")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/{self.dbname}"
        return self

    def cpu_seconds(self) -> float:
        """CPU used by the postmaster and its backends (including those that have exited)."""
        return process_tree_cpu(self.pid)

    def __exit__(self, *exc):
        if self.started:
            with contextlib.suppress(subprocess.CalledProcessError):
                self._as_pg(self.bin / "pg_ctl", "-D", self.dir / "data", "-m", "fast", "-w", "stop",
                            stdout=subprocess.DEVNULL)
            self.started = False
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False


# ---------------------------------------------------------------- the web server

def process_tree_cpu(root_pid: int) -> float:
    """Seconds of CPU used by a process and its direct children, from /proc (Linux only)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == root_pid:  # its own time and that of children already reaped
            total += sum(int(f) for f in fields[11:15])
        elif ppid == root_pid:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


class Gunicorn:
    """The project's own server (gunicorn.conf.py) on a random loopback port, against `env`'s database."""

    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
        self.env = {**os.environ, **env, "QINQING_BIND": f"127.0.0.1:{self.port}"}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process below
        self._log = log
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "qinqing.wsgi:application"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.proc.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/login/")
                conn.getresponse().read()
                conn.close()
                print(f"==> gunicorn (gunicorn.conf.py) on 127.0.0.1:{self.port}, log {self.log_path}")
                return self
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer within 60 s; see {self.log_path}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the master and its live workers: a figure that
        other load on the machine does not inflate, unlike wall-clock latency."""
        return process_tree_cpu(self.proc.pid)

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return False


class Client:
    """One keep-alive HTTP/1.1 connection to the server; reconnects when the server closes it."""

    def __init__(self, port: int, headers: dict | None = None, timeout: float = 60):
        self.port = port
        self.headers = headers or {}
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, float]:
        """(status, body, seconds) of one request, timed from send to the last byte read."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            start = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: open a new one once.
                self.close()
                if attempt:
                    raise
                continue
            elapsed = time.perf_counter() - start
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, payload, elapsed
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def start_django(work: Path, database_url: str) -> None:
    """Django on the benchmark's own data directory and database (a PostgreSQL one recreated empty; SQLite's
    under `work`), without Redis or DEBUG's query log. The caller migrates."""
    (work / "var").mkdir(exist_ok=True)
    os.environ["QINQING_VAR_DIR"] = str(work / "var")
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qinqing.settings")
    os.environ["DEBUG"] = "0"
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    if database_url.startswith("postgres"):
        from demands import recreate_database

        recreate_database(database_url)
    import django

    django.setup()
