"""Feed broken files to the commands that read them, as a new user's files would be, and count
what goes wrong: tracebacks, hangs, messages longer than an error and its hint, stored data
after a failed import.

    python scripts/fuzz_inputs.py [--cases 200] [--seed 0] [--jobs 2] [--keep DIR] [--show ok]

It builds valid inputs with pluralign itself (a simulated assembly: Polis CSVs, pool.csv,
population.json; quotas; a constitution; a moral graph; preference pairs; the PRISM test
fixture; a pipeline.yaml), then makes ``--cases`` mutants (truncations, dropped or renamed
columns, wrong types, huge numbers, NaN/Infinity, a BOM, Latin-1 bytes, NUL bytes, duplicated
lines, unknown ids, negative numbers, syntax errors), one file changed each, and runs the
command that reads that file in a fresh process (timeout 120 s). Each outcome is one of:

* ``ok``: exit 0 (the mutant was acceptable, e.g. a BOM);
* ``error``: exit 1 with one message line (and a hint line) and no traceback;
* ``usage``: exit 2 (should not happen: the arguments are valid);
* ``TRACEBACK`` / ``HANG`` / ``LONG`` (more than two lines) / ``STORED`` (a failed import
  left an assembly in the store): the ones to fix.

Exits 1 when any case is in the last group. Nothing here is timed; run it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRISM_FIXTURE = REPO / "tests" / "data" / "fixtures" / "prism"
BAD = ("TRACEBACK", "HANG", "LONG", "STORED", "usage")
SAMPLE_CONSTITUTION = REPO / "tests" / "data" / "fixtures" / "constitution.yaml"


def pluralign(*args, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "pluralign", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def build_inputs(base: Path) -> None:
    """Valid inputs for every target, made by pluralign itself."""
    steps = [
        ("simulate", "--out", "sim", "--participants", "40", "--statements", "12"),
        ("panel", "quotas", "--population", "sim/population.json", "--size", "10",
         "--out", "quotas.csv"),
        ("constitution", "draft", "sim", "--out", "const", "--embedder", "tfidf"),
        ("moralgraph", "simulate", "--out", "edges.csv", "--participants", "30",
         "--cards-out", "cards.json"),
        ("moralgraph", "summarize", "edges.csv", "--values", "cards.json", "--out", "graph.json",
         "--min-marked-wiser", "1"),
        ("data", "prefs", "--from-sim", "sim", "--out", "prefs.jsonl", "--templates", "none"),
        ("init", "pipeline.yaml"),
    ]
    for step in steps:
        r = pluralign(*step, cwd=base)
        if r.returncode != 0:
            raise SystemExit(f"building inputs failed: pluralign {' '.join(step)}\n{r.stderr}")
    const = base / "const" / "constitution.yaml"
    if "clauses: []" in const.read_text(encoding="utf-8"):  # a small simulation drafts none
        shutil.copy(SAMPLE_CONSTITUTION, const)
    shutil.copytree(PRISM_FIXTURE, base / "prism")
    # (the example pipeline.yaml names a Polis folder that does not exist: a run reads and
    # validates the whole YAML, then stops with that error, so no case trains a model)


# Each target: (name, file it mutates relative to the case folder, command arguments).
TARGETS = [
    ("import polis", "sim/comments.csv", ("import", "polis", "sim", "--db", "store.db")),
    ("import polis", "sim/votes.csv", ("import", "polis", "sim", "--db", "store.db")),
    ("import polis", "sim/participants-votes.csv", ("import", "polis", "sim", "--db", "store.db")),
    ("import polis", "sim/summary.csv", ("import", "polis", "sim", "--db", "store.db")),
    ("aggregate", "sim/comments.csv", ("aggregate", "sim", "--out", "agg")),
    ("aggregate", "sim/votes.csv", ("aggregate", "sim", "--out", "agg")),
    ("aggregate", "sim/participants-votes.csv", ("aggregate", "sim", "--out", "agg")),
    ("panel select", "sim/pool.csv", ("panel", "select", "--pool", "sim/pool.csv", "--quotas",
                                      "quotas.csv", "--size", "10", "--out", "panel")),
    ("panel select", "quotas.csv", ("panel", "select", "--pool", "sim/pool.csv", "--quotas",
                                    "quotas.csv", "--size", "10", "--out", "panel")),
    ("panel quotas", "sim/population.json", ("panel", "quotas", "--population",
                                             "sim/population.json", "--size", "10", "--out",
                                             "q.csv")),
    ("constitution check", "const/constitution.yaml", ("constitution", "check",
                                                       "const/constitution.yaml")),
    ("moralgraph check", "graph.json", ("moralgraph", "check", "graph.json",
                                        "--min-marked-wiser", "1")),
    ("moralgraph summarize", "edges.csv", ("moralgraph", "summarize", "edges.csv", "--out",
                                           "g2.json")),
    ("moralgraph summarize", "cards.json", ("moralgraph", "summarize", "edges.csv", "--values",
                                            "cards.json", "--out", "g2.json")),
    ("data import-prism", "prism/survey.jsonl", ("data", "import-prism", "prism", "--out",
                                                 "p.jsonl")),
    ("data import-prism", "prism/conversations.jsonl", ("data", "import-prism", "prism", "--out",
                                                        "p.jsonl")),
    ("data check", "prefs.jsonl", ("data", "check", "prefs.jsonl")),
    ("data weight", "prefs.jsonl", ("data", "weight", "prefs.jsonl", "--out", "w.jsonl")),
    ("run", "pipeline.yaml", ("run", "pipeline.yaml")),
]

NUMBER = re.compile(rb"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def mutate(data: bytes, kind: str, rng: random.Random, suffix: str) -> bytes:
    """One mutation of a file's bytes (the file keeps its name)."""
    numbers = list(NUMBER.finditer(data))

    def replace_number(new: bytes) -> bytes:
        if not numbers:
            return data + b"\n" + new
        m = rng.choice(numbers)
        return data[: m.start()] + new + data[m.end():]

    lines = _lines(data)
    if kind == "truncate":
        return data[: rng.randrange(max(1, len(data)))]
    if kind == "empty":
        return b""
    if kind in ("drop-column", "rename-column") and suffix == ".csv" and lines:
        header = lines[0].split(b",")
        j = rng.randrange(len(header))
        if kind == "rename-column":
            header[j] = header[j] + b"_x"
            return b",".join(header) + b"\n" + b"\n".join(lines[1:])
        out = []
        for line in lines:  # naive split: fine for the numeric files, breaks quoted text
            cells = line.split(b",")
            out.append(b",".join(c for k, c in enumerate(cells) if k != j))
        return b"\n".join(out)
    if kind in ("drop-column", "rename-column"):  # JSON/YAML: drop or rename a key
        keys = list(re.finditer(rb'"?([A-Za-z_][\w-]*)"?\s*:', data))
        if not keys:
            return data
        m = rng.choice(keys)
        if kind == "rename-column":
            return data[: m.start(1)] + m.group(1) + b"_x" + data[m.end(1):]
        end = data.find(b"\n", m.end())
        return data[: m.start()] + data[end if end >= 0 else len(data):]
    if kind == "wrong-type":
        return replace_number(b'"yes"' if suffix in (".json", ".jsonl") else b"yes")
    if kind == "huge-float":
        return replace_number(b"1e308" if rng.random() < 0.5 else b"1e400")
    if kind == "huge-int":
        return replace_number(b"100000000000000000000")
    if kind == "negative":
        return replace_number(b"-5")
    if kind == "fraction":
        return replace_number(b"1.5")
    if kind == "nan":
        token = {".json": b"NaN", ".jsonl": b"NaN", ".yaml": b".nan"}.get(suffix, b"nan")
        return replace_number(token)
    if kind == "inf":
        token = {".json": b"Infinity", ".jsonl": b"-Infinity", ".yaml": b".inf"}.get(suffix, b"inf")
        return replace_number(token)
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind == "latin1":
        pos = rng.randrange(max(1, len(data)))
        return data[:pos] + b"caf\xe9" + data[pos:]
    if kind == "nul":
        pos = rng.randrange(max(1, len(data)))
        return data[:pos] + b"\x00" + data[pos:]
    if kind == "duplicate-line" and len(lines) > 2:
        i = rng.randrange(1, len(lines) - 1)
        return b"\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1:])
    if kind == "unknown-id":
        return replace_number(b"987654")
    if kind == "syntax":
        marks = [m.start() for m in re.finditer(rb'[{}\[\]:",]', data)]
        if not marks:
            return data + b"\n: ["
        pos = rng.choice(marks)
        return data[:pos] + data[pos + 1:]
    return data


KINDS = ("truncate", "empty", "drop-column", "rename-column", "wrong-type", "huge-float",
         "huge-int", "negative", "fraction", "nan", "inf", "bom", "latin1", "nul",
         "duplicate-line", "unknown-id", "syntax")


@dataclass
class Case:
    number: int
    target: str
    file: str
    kind: str
    args: tuple[str, ...]


def classify(case: Case, folder: Path) -> tuple[str, str]:
    try:
        r = pluralign(*case.args, cwd=folder)
    except subprocess.TimeoutExpired:
        return "HANG", ""
    err = r.stderr.strip()
    if "Traceback (most recent call last)" in err or r.returncode not in (0, 1, 2):
        return "TRACEBACK", err.splitlines()[-1] if err else f"exit {r.returncode}"
    if r.returncode == 2:
        return "usage", err
    if r.returncode == 1:
        if case.target == "import polis" and (folder / "store.db").exists():
            with sqlite3.connect(folder / "store.db") as db:
                try:
                    n = db.execute("select count(*) from assembly").fetchone()[0]
                except sqlite3.Error:
                    n = 0
            if n:
                return "STORED", err
        lines = [line for line in err.splitlines() if line.strip()]
        if len(lines) > 2 or (len(lines) == 2 and not lines[1].lstrip().startswith("hint:")):
            return "LONG", err
        return "error", err
    return "ok", ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep the case folders here")
    parser.add_argument("--show", nargs="+", default=[], metavar="OUTCOME",
                        help="also list the cases with these outcomes (e.g. ok: what was accepted)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    root = Path(args.keep or tempfile.mkdtemp(prefix="pluralign-fuzz-"))
    base = root / "base"
    base.mkdir(parents=True, exist_ok=True)
    print(f"building inputs in {base}", flush=True)
    build_inputs(base)
    cases = []
    for n in range(args.cases):
        target, file, cmd = TARGETS[n % len(TARGETS)]
        kind = KINDS[(n // len(TARGETS) + n) % len(KINDS)]
        cases.append(Case(n, target, file, kind, cmd))
    folders = {}
    for case in cases:
        folder = root / f"case-{case.number:04d}"
        shutil.copytree(base, folder, dirs_exist_ok=True)
        path = folder / case.file
        path.write_bytes(mutate(path.read_bytes(), case.kind, rng, path.suffix.lower()))
        folders[case.number] = folder
    print(f"running {len(cases)} cases with {args.jobs} jobs", flush=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        outcomes = list(pool.map(lambda c: classify(c, folders[c.number]), cases))
    tally = Counter(o for o, _ in outcomes)
    by_target = Counter((c.target, o) for c, (o, _) in zip(cases, outcomes, strict=True))
    print(json.dumps(dict(tally), sort_keys=True))
    for target in dict.fromkeys(t for t, _, _ in TARGETS):
        row = {o: n for (t, o), n in by_target.items() if t == target}
        print(f"  {target:22s} {json.dumps(row, sort_keys=True)}")
    bad = [(c, o, msg) for c, (o, msg) in zip(cases, outcomes, strict=True) if o in BAD]
    shown = [(c, o, msg) for c, (o, msg) in zip(cases, outcomes, strict=True)
             if o in args.show and o not in BAD]
    for c, o, msg in [*shown, *bad]:
        print(f"{o}: case {c.number} {c.target} {c.file} {c.kind}: {msg[:300]}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
