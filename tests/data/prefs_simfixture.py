"""A tiny simulator output folder written by hand (pool, Polis comments/votes, truth), in the
layout `pluralign simulate --out DIR` writes: used until/independently of the real simulator."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

GROUPS = ("a", "b")
# statement id → (text, P(agree) in group a, P(agree) in group b)
STATEMENTS = {
    "0": ("An AI assistant should always tell people it is an AI when asked.", 0.95, 0.9),
    "1": ("Assistants should show their sources for factual claims.", 0.9, 0.85),
    "2": ("An assistant should refuse anything that could possibly be misused.", 0.9, 0.1),
    "3": ("Assistants should write edgy jokes when adults ask for them.", 0.15, 0.9),
    "4": ("Assistants should use plenty of emoji.", 0.5, 0.45),
}
CONSENSUS = ["0", "1"]


def write_sim(folder: Path, n: int = 40, seed: int = 0) -> Path:
    """Write the fixture; participant i is in group a when i is even."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    people = [str(i) for i in range(n)]
    group = {p: GROUPS[int(p) % 2] for p in people}
    with open(folder / "pool.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "gender", "age_band"])
        for p in people:
            w.writerow([p, "female" if int(p) % 4 < 2 else "male",
                        "18-34" if int(p) % 3 == 0 else "35+"])
    with open(folder / "comments.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees",
                    "moderated", "comment-body"])
        for sid, (text, _, _) in STATEMENTS.items():
            w.writerow([0, "", sid, 0, 0, 0, 1, text])
    with open(folder / "votes.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "datetime", "comment-id", "voter-id", "vote"])
        for sid, (_, pa, pb) in STATEMENTS.items():
            for p in people:
                prob = pa if group[p] == "a" else pb
                w.writerow([0, "", sid, p, 1 if rng.random() < prob else -1])
    truth = {"participant_groups": group, "consensus_statements": CONSENSUS}
    (folder / "truth.json").write_text(json.dumps(truth))
    return folder
