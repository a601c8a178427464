"""Load benchmark of the web app's vote endpoint (issue 8).

N concurrent clients on loopback, each a participant who joined through the real pages, post
votes as fast as the server answers for a bounded time. Prints votes/s and p50/p99 latency, then
checks against the database that every acknowledged vote is stored exactly once (and nothing
unacknowledged beyond requests still in flight at the deadline). The peer measured in the same
run is the store alone: the same votes written by ``service.record_vote`` in one thread, without
HTTP, so the ratio shows what the web layer costs.

    PYTHONPATH=src /work/venv/bin/python benchmarks/web_votes.py --db sqlite --clients 32 \
        --seconds 10
    PYTHONPATH=src /work/venv/bin/python benchmarks/web_votes.py \
        --db postgresql://postgres@127.0.0.1:55433/postgres --clients 32 --workers 2

``--db sqlite`` uses a fresh file; a PostgreSQL URL gets a fresh database created beside the one
named (dropped afterwards). The server runs with a raised per-participant rate limit (the
default 60/min would throttle a benchmark client after 20 votes).

Then the crash check (skip it with ``--no-kill``): a second load with new participants on a
new server over the same database, SIGKILLed (kill -9, the whole process group) halfway
through; the database must hold every vote the server acknowledged, none twice, and nothing
unacknowledged beyond the requests in flight when it died.

Targets of issue 14, on 2 idle cores with 16 clients: >= 1,000 votes/s at p99 < 100 ms, nothing
lost or duplicated, on SQLite and PostgreSQL. Measure holding the lock
(``flock /tmp/pluralign-measure.lock ...``) and note the load average it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SLUG = "bench"
N_STATEMENTS = 50


# ------------------------------------------------------------------ set-up


def fresh_db(db: str) -> tuple[str, callable]:
    """A fresh database URL and a function that removes it."""
    if db == "sqlite":
        folder = tempfile.mkdtemp(prefix="pluralign-bench-")
        return f"sqlite:///{folder}/bench.db", lambda: None
    from sqlalchemy import create_engine, text

    from pluralign.store.session import resolve_url

    admin_url = resolve_url(db)
    name = f"pluralign_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


def prepare(url: str, slug: str = SLUG, n_statements: int = N_STATEMENTS) -> None:
    from pluralign.store import open_store
    from pluralign.web import service

    store = open_store(url)
    with store.session() as s:
        form = service.parse_assembly_form("Benchmark", "", False, "", "", "7")
        a = service.create_assembly(s, slug, form)
        service.set_state(a, "open")
        service.add_seed_statements(s, a, [f"statement {i}" for i in range(n_statements)])
    store.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, workers: int = 1, log: Path | None = None):
    import httpx

    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pluralign",
            "web",
            "--db",
            url,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--rate-limit",
            "1000000",
            "--burst",
            "100000",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=out,
        stderr=out,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start in 60 s")


def kill_server(proc, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


# ------------------------------------------------------------------ clients


@dataclass
class Client:
    """One participant: session cookie, CSRF token, and what the server acknowledged."""

    cookie: str
    csrf: str
    participant: int | None = None
    acked: dict[str, int] = field(default_factory=dict)  # request id -> vote id
    pending: list[tuple[str, int, int]] = field(default_factory=list)  # sent, not acknowledged
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


def join(base: str, slug: str = SLUG) -> Client:
    import httpx

    with httpx.Client(base_url=base, follow_redirects=True) as c:
        page = c.get(f"/a/{slug}")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        r = c.post(f"/a/{slug}/join", data={"csrf": token, "consent": "yes"})
        r.raise_for_status()
        return Client(cookie=c.cookies["pluralign"], csrf=token)


async def _post_vote(reader, writer, host: str, client: Client, body: bytes, slug: str):
    request = (
        f"POST /a/{slug}/vote HTTP/1.1\r\nHost: {host}\r\n"
        f"Cookie: pluralign={client.cookie}\r\nX-CSRF-Token: {client.csrf}\r\n"
        "Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    payload = await reader.readexactly(length)
    return status, payload


async def run_client(
    client: Client, port: int, stop_at: float, n_statements: int, slug: str = SLUG, offset: int = 0
) -> None:
    """A keep-alive connection posting votes until ``stop_at`` (raw HTTP/1.1: a light client
    so the load generator takes less of the shared CPU than the server)."""
    import json

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    try:
        while time.monotonic() < stop_at:
            rid = uuid.uuid4().hex
            statement, value = i % n_statements, (i % 3) - 1
            i += 1
            body = f"statement={statement}&value={value}&request_id={rid}".encode()
            client.pending.append((rid, statement, value))
            t0 = time.perf_counter()
            try:
                status, payload = await _post_vote(
                    reader, writer, f"127.0.0.1:{port}", client, body, slug
                )
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                client.errors += 1
                return  # server gone (crash test): the vote stays pending
            client.latencies.append(time.perf_counter() - t0)
            if status == 200:
                client.pending.pop()
                client.acked[rid] = json.loads(payload)["vote_id"]
            else:
                client.errors += 1
                client.pending.pop()
    finally:
        writer.close()


async def load(clients: list[Client], port: int, seconds: float, n_statements: int) -> float:
    stop_at = time.monotonic() + seconds
    t0 = time.perf_counter()
    await asyncio.gather(
        *(run_client(c, port, stop_at, n_statements, offset=k * 7) for k, c in enumerate(clients))
    )
    return time.perf_counter() - t0


def verify(url: str, clients: list[Client]) -> dict:
    """Every acknowledged vote of ``clients`` stored exactly once; nothing of theirs stored
    that nobody sent (votes of other participants are not counted)."""
    from sqlalchemy import select

    from pluralign.store import open_store
    from pluralign.store.models import Participant, Vote

    store = open_store(url, migrate=False)
    with store.session() as s:
        key_to_pid = dict(s.execute(select(Participant.key, Participant.id)).all())
        stored = s.execute(select(Vote.request_id, Vote.id)).all()
    store.dispose()
    mine = {str(key_to_pid.get(_cookie_participant_key(c.cookie))) for c in clients}
    stored = [(rid, vid) for rid, vid in stored if rid.split(":", 1)[0] in mine]
    by_key: dict[str, list[int]] = {}
    for rid, vid in stored:
        by_key.setdefault(rid, []).append(vid)
    acked = lost = dup = 0
    acked_keys = set()
    for c in clients:
        pid = key_to_pid.get(_cookie_participant_key(c.cookie))
        for rid, vid in c.acked.items():
            acked += 1
            key = f"{pid}:{rid}"
            acked_keys.add(key)
            ids = by_key.get(key, [])
            lost += vid not in ids
            dup += len(ids) > 1
    in_flight = sum(len(c.pending) for c in clients)
    unacked_stored = len(stored) - len(acked_keys & set(by_key))
    return {
        "acknowledged": acked,
        "stored": len(stored),
        "lost": lost,
        "duplicated": dup,
        "stored_but_unacknowledged": unacked_stored,
        "in_flight_at_stop": in_flight,
    }


def _cookie_participant_key(cookie: str) -> str:
    """The participant key inside Starlette's signed session cookie (payload is base64 JSON)."""
    import base64
    import json

    payload = cookie.split(".")[0]
    data = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return data["p"][SLUG]


def peer_store_only(url: str, n: int) -> float:
    """Votes/s of ``service.record_vote`` alone (one thread, one transaction per vote)."""
    from pluralign.store import open_store
    from pluralign.store.queries import get_assembly
    from pluralign.web import service

    store = open_store(url, migrate=False)
    with store.session() as s:
        a = get_assembly(s, SLUG)
        p = service.join(s, a, None)
        aid, pid = a.id, p.id
    t0 = time.perf_counter()
    for i in range(n):
        with store.session() as s:
            a = s.get(type(a), aid)
            p = s.get(type(p), pid)
            service.record_vote(s, a, p, i % N_STATEMENTS, 1, f"peer-{i}")
    rate = n / (time.perf_counter() - t0)
    store.dispose()
    return rate


def _proc_stats():
    """The fields after the command name of every live process's ``/proc/PID/stat`` (so field
    N of proc(5) is index N - 3); processes that end while being read are skipped."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            yield (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue


def group_cpu_seconds(pgid: int) -> float:
    """User+system CPU seconds of every process in the server's process group (all workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    return sum(
        (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        for fields in _proc_stats()
        if int(fields[2]) == pgid  # field 5 of stat: process group id
    )


class PgCounters:
    """Where a PostgreSQL server's share of a vote goes, read before and after the load: CPU of
    the server's processes (the postmaster, its backends and helpers; only when the server runs
    on this machine and ``/proc`` shows it), transactions committed in the benchmark's database
    (``pg_stat_database``), WAL fsyncs and writes (``pg_stat_wal``, the whole server) and, when
    the ``pg_stat_statements`` extension is installed in the database named by ``--db``, the
    statements run in the benchmark's database."""

    def __init__(self, admin_url: str, url: str):
        from sqlalchemy import create_engine, text

        from pluralign.store.session import resolve_url

        self.name = url.rsplit("/", 1)[1]
        self.admin = create_engine(resolve_url(admin_url), isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            self.has_statements = bool(
                conn.execute(
                    text("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
                ).first()
            )
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        try:
            stat = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
            self.postmaster: int | None = int(stat[1])  # field 4: parent pid
        except OSError:
            self.postmaster = None  # a server on another machine: no CPU figure

    def cpu_seconds(self) -> float | None:
        """utime+stime of the postmaster, of its children reaped so far and of those alive."""
        if self.postmaster is None:
            return None
        tick = os.sysconf("SC_CLK_TCK")
        own = Path(f"/proc/{self.postmaster}/stat").read_text().rsplit(")", 1)[1].split()
        total = sum(int(x) for x in own[11:15]) / tick  # utime stime cutime cstime
        total += sum(
            (int(fields[11]) + int(fields[12])) / tick
            for fields in _proc_stats()
            if int(fields[1]) == self.postmaster  # field 4: parent pid
        )
        return total

    def snapshot(self) -> dict:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text("SELECT pg_stat_force_next_flush()"))
            commits = conn.execute(
                text("SELECT xact_commit FROM pg_stat_database WHERE datname = :n"),
                {"n": self.name},
            ).scalar_one()
            wal = conn.execute(text("SELECT wal_sync, wal_write, wal_records FROM pg_stat_wal"))
            sync, write, records = wal.one()
            calls = {}
            if self.has_statements:
                calls = dict(
                    conn.execute(
                        text(
                            "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 70), "
                            "sum(calls) FROM pg_stat_statements s JOIN pg_database d "
                            "ON d.oid = s.dbid WHERE d.datname = :n GROUP BY 1"
                        ),
                        {"n": self.name},
                    ).all()
                )
        return {
            "cpu": self.cpu_seconds(),
            "commits": commits,
            "wal_sync": sync,
            "wal_write": write,
            "wal_records": records,
            "calls": calls,
        }

    @staticmethod
    def report(before: dict, after: dict, votes: int) -> list[str]:
        n = max(votes, 1)
        lines = []
        if before["cpu"] is not None:
            cpu = after["cpu"] - before["cpu"]
            lines.append(f"database server CPU: {cpu:.1f} s = {cpu / n * 1000:.2f} ms per vote")
        lines.append(
            "per vote: "
            + ", ".join(
                f"{k.replace('_', ' ')} {(after[k] - before[k]) / n:.3f}"
                for k in ("commits", "wal_sync", "wal_write", "wal_records")
            )
        )
        if after["calls"]:
            delta = {q: c - before["calls"].get(q, 0) for q, c in after["calls"].items()}
            total = sum(delta.values())
            lines.append(f"statements per vote: {total / n:.3f}")
            for q, c in sorted(delta.items(), key=lambda kv: -kv[1])[:6]:
                if c:
                    lines.append(f"  {c / n:.3f}  {q}")
        return lines

    def close(self) -> None:
        self.admin.dispose()


def _own_cpu_seconds() -> float:
    """User+system CPU seconds of this process (the load generator)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def crash_check(url: str, n_clients: int, seconds: float, workers: int = 1) -> bool:
    """A load on a new server, SIGKILLed halfway; True when no acknowledged vote was lost."""
    port = free_port()
    proc = start_server(url, port, workers)
    try:
        clients = [join(f"http://127.0.0.1:{port}") for _ in range(n_clients)]

        async def load_and_kill():
            stop_at = time.monotonic() + seconds
            task = asyncio.gather(
                *(
                    run_client(c, port, stop_at, N_STATEMENTS, offset=k * 7)
                    for k, c in enumerate(clients)
                )
            )
            await asyncio.sleep(seconds / 2)
            os.killpg(proc.pid, signal.SIGKILL)
            await task

        asyncio.run(load_and_kill())
        proc.wait(15)
    finally:
        kill_server(proc, signal.SIGKILL)
    check = verify(url, clients)
    killed = sum(len(c.acked) for c in clients)
    ok = (
        killed > 0
        and check["lost"] == 0
        and check["duplicated"] == 0
        and check["stored_but_unacknowledged"] <= check["in_flight_at_stop"]
    )
    print(
        f"kill -9 after {seconds / 2:.1f} s of a second load: {killed} votes acknowledged "
        f"before the kill; "
        + ", ".join(f"{k}={v}" for k, v in check.items() if k != "acknowledged")
    )
    print("no acknowledged vote lost across the kill:", "YES" if ok else "NO")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default="sqlite", help="'sqlite' or a PostgreSQL URL")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=1, help="server worker processes")
    ap.add_argument("--peer-votes", type=int, default=2000)
    ap.add_argument("--no-kill", action="store_true", help="skip the SIGKILL-in-the-middle check")
    args = ap.parse_args(argv)

    url, drop = fresh_db(args.db)
    proc = None
    try:
        prepare(url)
        port = free_port()
        proc = start_server(url, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        clients = [join(base) for _ in range(args.clients)]
        pg = PgCounters(args.db, url) if args.db != "sqlite" else None
        pg_before = pg.snapshot() if pg else None
        cpu0, own0 = group_cpu_seconds(proc.pid), _own_cpu_seconds()
        elapsed = asyncio.run(load(clients, port, args.seconds, N_STATEMENTS))
        server_cpu = group_cpu_seconds(proc.pid) - cpu0
        client_cpu = _own_cpu_seconds() - own0
        kill_server(proc)
        proc = None
        if pg:  # after the server's connections closed: their backends flushed their counters
            time.sleep(0.5)
        pg_after = pg.snapshot() if pg else None
        lat = [x for c in clients for x in c.latencies]
        acked = sum(len(c.acked) for c in clients)
        check = verify(url, clients)
        rate = acked / elapsed
        peer = peer_store_only(url, args.peer_votes)
        backend = "sqlite" if args.db == "sqlite" else "postgresql"
        print(
            f"backend={backend} workers={args.workers} clients={args.clients} "
            f"seconds={elapsed:.1f} cpus={os.cpu_count()} "
            f"load_avg_1min={os.getloadavg()[0]:.1f}"
        )
        print(
            f"web votes/s: {rate:.0f}   p50: {percentile(lat, 0.5) * 1000:.1f} ms   "
            f"p99: {percentile(lat, 0.99) * 1000:.1f} ms   errors: "
            f"{sum(c.errors for c in clients)}"
        )
        print(
            f"server CPU: {server_cpu:.1f} s for {acked} votes = "
            f"{server_cpu / max(acked, 1) * 1000:.2f} ms CPU per vote -> "
            f"{acked / max(server_cpu, 1e-9):.0f} votes per CPU-second"
        )
        print(
            f"load generator CPU: {client_cpu:.1f} s = "
            f"{client_cpu / max(acked, 1) * 1000:.2f} ms per vote (on the same cores)"
        )
        if pg:
            for line in PgCounters.report(pg_before, pg_after, acked):
                print(line)
            pg.close()
        print(
            f"peer (store only, 1 thread) votes/s: {peer:.0f}   ratio web/peer: {rate / peer:.2f}"
        )
        print("check: " + ", ".join(f"{k}={v}" for k, v in check.items()))
        ok = (
            check["lost"] == 0
            and check["duplicated"] == 0
            and check["stored_but_unacknowledged"] <= check["in_flight_at_stop"]
        )
        print("every acknowledged vote stored exactly once:", "YES" if ok else "NO")
        if not args.no_kill:
            ok = crash_check(url, args.clients, args.seconds, args.workers) and ok
        return 0 if ok else 1
    finally:
        if proc is not None:
            kill_server(proc)
        drop()


if __name__ == "__main__":
    sys.exit(main())
