"""Crash test: SIGKILL the server in the middle of a vote load, restart it, and check that no
acknowledged vote was lost, none was stored twice, and retrying the unanswered requests (same
request ids, same session cookies) stores each of them exactly once. Both databases."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import httpx
import pytest
from web_helpers import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import web_votes as bench  # noqa: E402

pytestmark = pytest.mark.slow


async def _load_then_kill(proc, clients, port, kill_after: float) -> None:
    task = asyncio.gather(
        *(
            bench.run_client(c, port, time.monotonic() + 30, 10, offset=7 * k)
            for k, c in enumerate(clients)
        )
    )
    await asyncio.sleep(kill_after)
    os.killpg(proc.pid, signal.SIGKILL)
    await task


def test_sigkill_mid_load_loses_no_acknowledged_vote(db_url, tmp_path):
    bench.prepare(db_url, n_statements=10)
    port = bench.free_port()
    proc = bench.start_server(db_url, port, log=tmp_path / "server.log")
    try:
        base = f"http://127.0.0.1:{port}"
        clients = [bench.join(base) for _ in range(6)]
        asyncio.run(_load_then_kill(proc, clients, port, kill_after=1.5))
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        acked = sum(len(c.acked) for c in clients)
        assert acked > 0, "no vote was acknowledged before the kill"
        assert all(c.errors for c in clients), "every client should have seen the crash"
        check = bench.verify(db_url, clients)
        assert check["lost"] == 0 and check["duplicated"] == 0, check
        assert check["stored_but_unacknowledged"] <= check["in_flight_at_stop"], check
        print(f"after SIGKILL: {check}")

        # restart on the same database; sessions survive (the cookie secret is stored)
        port = bench.free_port()
        proc = bench.start_server(db_url, port, log=tmp_path / "server.log")
        retried = 0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            for c in clients:
                for rid, statement, value in list(c.pending):
                    r = http.post(
                        "/a/bench/vote",
                        headers={
                            "x-csrf-token": c.csrf,
                            "accept": "application/json",
                            "cookie": f"pluralign={c.cookie}",
                        },
                        data={"statement": statement, "value": value, "request_id": rid},
                    )
                    assert r.status_code == 200, r.text
                    c.acked[rid] = r.json()["vote_id"]
                    c.pending.remove((rid, statement, value))
                    retried += 1
                # a retry of an acknowledged vote is recognised, not stored again
                rid, vote_id = next(iter(c.acked.items()))
                r = http.post(
                    "/a/bench/vote",
                    headers={
                        "x-csrf-token": c.csrf,
                        "accept": "application/json",
                        "cookie": f"pluralign={c.cookie}",
                    },
                    data={"statement": 0, "value": 1, "request_id": rid},
                )
                assert r.json()["replayed"] is True and r.json()["vote_id"] == vote_id
        after = bench.verify(db_url, clients)
        assert after["lost"] == 0 and after["duplicated"] == 0, after
        assert after["stored"] == after["acknowledged"] == acked + retried, after
    finally:
        bench.kill_server(proc, signal.SIGKILL)
