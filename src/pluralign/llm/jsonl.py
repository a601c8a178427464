"""Append-only JSONL with a done-key per item: the resumable output of every synthesis step.

Each written row carries ``key``; :class:`ResumableJsonl` reads the keys already present (and
those of a sidecar ``*.skipped.jsonl`` for items that finished without a row) so a re-run skips
them. A torn last line from an interrupted run is dropped (truncated) on open, so the file stays
valid JSONL. Rows are flushed and fsynced one by one.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

from pluralign.io import iter_jsonl


def _repair_tail(path: Path) -> None:
    """Cut a torn (unterminated or unparseable) last line left by an interrupted write."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        last = data[:-1].rsplit(b"\n", 1)[-1]
        try:
            json.loads(last)
            return
        except ValueError:
            cut = len(data) - 1 - len(last)
    else:
        cut = data.rfind(b"\n") + 1
    with open(path, "r+b") as fh:
        fh.truncate(cut)


class ResumableJsonl:
    """Output rows to ``path`` and skip-markers to ``path.skipped.jsonl``, both append-only."""

    def __init__(self, path: Path, key_of: Callable[[dict], object] | None = None):
        self.key_of = key_of or (lambda row: row.get("key"))
        self.path = Path(path)
        self.skipped_path = self.path.with_name(self.path.name + ".skipped.jsonl")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()  # the output exists even when every item ends up skipped
        self.done: set[str] = set()
        self.rows_before = 0
        for p in (self.path, self.skipped_path):
            _repair_tail(p)
            if p.exists():
                for _, row in iter_jsonl(p):
                    key = self.key_of(row) if p == self.path else row.get("key")
                    if key is not None:
                        self.done.add(str(key))
                        if p == self.path:
                            self.rows_before += 1
        self._lock = threading.Lock()

    def is_done(self, key: str) -> bool:
        return key in self.done

    def _append(self, path: Path, row: dict, key: object) -> None:
        line = json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n"
        with self._lock:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            self.done.add(str(key))

    def write(self, row: dict) -> None:
        """Append one finished row (its done-key is ``key_of(row)``, by default ``row["key"]``)."""
        key = self.key_of(row)
        if key is None:
            raise ValueError("a row written to a resumable JSONL needs a done-key")
        self._append(self.path, row, key)

    def skip(self, key: str, reason: str, **extra: object) -> None:
        """Mark ``key`` done without an output row (e.g. the revision equals the answer)."""
        self._append(self.skipped_path, {"key": key, "reason": reason, **extra}, key)
