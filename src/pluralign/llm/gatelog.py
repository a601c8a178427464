"""The record of every quality-gate decision of a synthesis step, and its counts.

Each checked text (a question candidate, an answer, a critique, a revision, a pair) gets one row
in ``OUT.gates.jsonl``: ``step, key, attempt, verdict`` (``kept`` or ``rejected``) and, for a
rejection, ``reason`` (a code of :data:`pluralign.llm.gates.REASONS`), ``detail`` and the
rejected ``text``. ``OUT.gates.json`` holds the counts per step and reason and the rejection
rate, recomputed from the whole log (this run and earlier ones; a decision re-made on resume
counts once, the latest one).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

from pluralign.io import iter_jsonl
from pluralign.llm.gates import REASONS, Rejection
from pluralign.llm.jsonl import _repair_tail

STEPS = ("question", "scenario", "answer", "critique", "revision", "pair")


class GateLog:
    """Append gate decisions for ``out`` to ``out.gates.jsonl``; :meth:`summary` counts them."""

    def __init__(self, out: Path):
        out = Path(out)
        self.path = out.with_name(out.name + ".gates.jsonl")
        self.summary_path = out.with_name(out.name + ".gates.json")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _repair_tail(self.path)
        self._lock = threading.Lock()

    def check(
        self,
        step: str,
        key: str,
        attempt: int,
        text: str,
        rejection: Rejection | None,
        **extra: object,
    ) -> bool:
        """Record one decision; returns whether the text was kept."""
        row: dict = {"step": step, "key": key, "attempt": attempt}
        if rejection is None:
            row["verdict"] = "kept"
        else:
            row.update(
                verdict="rejected", reason=rejection.reason, detail=rejection.detail, text=text
            )
        row.update(extra)
        line = json.dumps(row, ensure_ascii=False) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
        return rejection is None

    def summary(self) -> dict:
        """Counts per step: ``checked``, ``kept``, ``rejected``, ``rejection_rate`` and
        ``by_reason``; written to ``OUT.gates.json`` and returned."""
        latest: dict[tuple, dict] = {}
        if self.path.exists():
            for _, row in iter_jsonl(self.path):
                latest[(row.get("step"), row.get("key"), row.get("attempt"))] = row
        steps: dict[str, dict] = {}
        for (step, _, _), row in latest.items():
            s = steps.setdefault(
                step, {"checked": 0, "kept": 0, "rejected": 0, "by_reason": Counter()}
            )
            s["checked"] += 1
            if row.get("verdict") == "kept":
                s["kept"] += 1
            else:
                s["rejected"] += 1
                s["by_reason"][row.get("reason")] += 1
        order = {name: i for i, name in enumerate(STEPS)}
        out = {}
        for step in sorted(steps, key=lambda n: order.get(n, len(order))):
            s = steps[step]
            out[step] = {
                "checked": s["checked"],
                "kept": s["kept"],
                "rejected": s["rejected"],
                "rejection_rate": round(s["rejected"] / s["checked"], 4) if s["checked"] else None,
                "by_reason": dict(s["by_reason"].most_common()),
            }
        data = {
            "steps": out,
            "reasons": {
                r: REASONS[r] for s in out.values() for r in s["by_reason"] if r in REASONS
            },
            "log": self.path.name,
        }
        from pluralign.io import atomic_write_text

        atomic_write_text(self.summary_path, json.dumps(data, indent=2, ensure_ascii=False))
        return data
