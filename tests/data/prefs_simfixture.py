"""A tiny simulator output folder written by hand in the layout and truth.json schema of
`pluralign simulate --out DIR` (pool.csv keyed by pool id, Polis voter ids in votes.csv, truth
with participants/statements/consensus lists)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from pluralign.formats.polis import COMMENT_COLUMNS

GROUPS = ("a", "b")
# comment id → (slug, text, P(agree) in group a, P(agree) in group b, category)
STATEMENTS = {
    "0": (
        "ai-disclose",
        "An AI assistant should always tell people it is an AI when asked.",
        0.95,
        0.9,
        "consensus",
    ),
    "1": (
        "sources",
        "Assistants should show their sources for factual claims.",
        0.9,
        0.85,
        "consensus",
    ),
    "2": (
        "caution",
        "An assistant should refuse anything that could possibly be misused.",
        0.9,
        0.1,
        "divisive",
    ),
    "3": (
        "edgy-jokes",
        "Assistants should write edgy jokes when adults ask for them.",
        0.15,
        0.9,
        "divisive",
    ),
    "4": ("emoji", "Assistants should use plenty of emoji.", 0.5, 0.45, "mixed"),
    "5": ("spam", "Buy cheap watches at my shop!!!", 0.05, 0.05, "junk"),
}


def pool_id(i: int) -> str:
    return f"P{i + 1:04d}"


def write_sim(folder: Path, n: int = 40, seed: int = 0, stances: bool = True) -> Path:
    """Write the fixture; person i (pool id P000{i+1}, voter id i+1) is in group a when i is even.
    ``stances=False`` leaves the profiles out of the truth (they are then estimated from votes)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    group = {i: GROUPS[i % 2] for i in range(n)}
    with open(folder / "pool.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "gender", "age_band"])
        for i in range(n):
            w.writerow(
                [pool_id(i), "woman" if i % 4 < 2 else "man", "18-34" if i % 3 == 0 else "35+"]
            )
    with open(folder / "comments.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COMMENT_COLUMNS)
        for sid, (_, text, _, _, cat) in STATEMENTS.items():
            w.writerow([0, "", sid, 0, 0, 0, -1 if cat == "junk" else 1, text])
    with open(folder / "votes.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "datetime", "comment-id", "voter-id", "vote"])
        for sid, (_, _, pa, pb, _) in STATEMENTS.items():
            for i in range(n):
                prob = pa if group[i] == "a" else pb
                w.writerow([0, "", sid, i + 1, 1 if rng.random() < prob else -1])
    statements = []
    for sid, (slug, _, pa, pb, cat) in STATEMENTS.items():
        item = {"comment-id": int(sid), "slug": slug, "topic": "t", "category": cat}
        if stances:
            item["stance"] = {
                "a": {"agree": pa * 0.9, "disagree": (1 - pa) * 0.9, "pass": 0.1},
                "b": {"agree": pb * 0.9, "disagree": (1 - pb) * 0.9, "pass": 0.1},
            }
        statements.append(item)
    truth = {
        "groups": [{"id": g} for g in GROUPS],
        "consensus": [0, 1],
        "consensus_against": [],
        "divisive": [2, 3],
        "statements": statements,
        "participants": [
            {
                "participant": i + 1,
                "id": pool_id(i),
                "group": group[i],
                "membership": [1.0, 0.0] if group[i] == "a" else [0.0, 1.0],
            }
            for i in range(n)
        ],
    }
    (folder / "truth.json").write_text(json.dumps(truth))
    return folder
