"""On-disk request cache: SQLite, keyed by the sha256 of the canonical request.

One row per answered request: ``key`` (see :meth:`ChatRequest.key`), the canonical request (for
audit) and the completion. A re-run with the same cache folder answers every request it has seen
from disk and sends nothing. Only successful completions are stored, never errors.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from pluralign.errors import StoreError
from pluralign.llm.types import ChatRequest, Completion, canonical_json

CACHE_FILE = "llm-cache.sqlite"


class RequestCache:
    """A thread-safe SQLite cache at ``folder/llm-cache.sqlite``."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / CACHE_FILE
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, model TEXT, "
                "request TEXT NOT NULL, completion TEXT NOT NULL, created REAL NOT NULL)"
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the LLM cache: {exc}",
                where=str(self.path),
                hint="pass a writable folder to --cache",
            ) from exc
        self._lock = threading.Lock()

    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute(
                "SELECT completion FROM completions WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return Completion.from_json({**json.loads(row[0]), "cached": True})

    def put(self, key: str, model: str, request: ChatRequest, completion: Completion) -> None:
        data = completion.to_json()
        data["cached"] = False
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO completions VALUES (?, ?, ?, ?, ?)",
                (
                    key,
                    model,
                    canonical_json(request.canonical()),
                    canonical_json(data),
                    time.time(),
                ),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM completions").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
