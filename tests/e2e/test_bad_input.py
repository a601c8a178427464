"""Broken input files, as a new user's would be, fed to every importer and checker.

Each row of :data:`CASES` changes one valid file in one way (a truncation, a missing or renamed
column, a wrong type, a huge number, NaN, a BOM, Latin-1 or NUL bytes, a duplicate, an unknown
id, a syntax error) and says what the command must do: accept it (exit 0), or refuse it with a
clean error -- exit 1, one line naming the file (and line, column or field) plus at most a hint
line, no traceback -- and store nothing. The Polis rows run through both ``import polis`` and
``aggregate``: one reader, so the same message. ``scripts/fuzz_inputs.py`` does the same at
random, in bulk.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from cli_inproc import invoke
from conftest import REPO

CONSTITUTION = REPO / "tests" / "data" / "fixtures" / "constitution.yaml"  # one clause
PREFS = "".join(
    json.dumps({"prompt": f"Question {i}?", "chosen": f"Good answer {i}.",
                "rejected": f"Bad answer {i}.", "weight": 1.0, "group": "g", "source": "test"})
    + "\n"
    for i in range(3)
)
PIPELINE = "run_dir: run\ninputs:\n  polis: missing-conversation\npanel: {size: 10, slack: 0.1}\n"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """Valid inputs for every command, made once by pluralign itself (and two by hand)."""
    root = tmp_path_factory.mktemp("valid")
    steps = [
        ("simulate", "--out", root / "sim", "--participants", "60", "--statements", "15"),
        ("panel", "quotas", "--population", root / "sim" / "population.json", "--size", "10",
         "--out", root / "quotas.csv"),
        ("moralgraph", "simulate", "--out", root / "edges.csv", "--participants", "30",
         "--cards-out", root / "cards.json"),
        ("moralgraph", "summarize", root / "edges.csv", "--values", root / "cards.json",
         "--out", root / "graph.json", "--min-marked-wiser", "1"),
    ]
    from pluralign.cli import main

    for step in steps:
        try:
            main([str(a) for a in step])
        except SystemExit as exc:
            assert not exc.code, step
    shutil.copy(CONSTITUTION, root / "constitution.yaml")
    (root / "prefs.jsonl").write_text(PREFS, encoding="utf-8")
    (root / "pipeline.yaml").write_text(PIPELINE, encoding="utf-8")
    shutil.copytree(REPO / "tests" / "data" / "fixtures" / "prism", root / "prism")
    return root


# ---------------------------------------------------------------- mutations of one file


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _write_rows(path: Path, rows) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def set_cell(line: int, column: str, value: str) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        rows = _rows(path)
        rows[line - 1][rows[0].index(column)] = value
        _write_rows(path, rows)
    return apply


def drop_column(column: str) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        rows = _rows(path)
        k = rows[0].index(column)
        _write_rows(path, [r[:k] + r[k + 1:] for r in rows])
    return apply


def rename_column(column: str, new: str) -> Callable[[Path], None]:
    return set_cell(1, column, new)


def header_only(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8").split("\n", 1)[0] + "\n", encoding="utf-8")


def duplicate_line(line: int) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        lines = path.read_bytes().split(b"\n")
        lines.insert(line, lines[line - 1])
        path.write_bytes(b"\n".join(lines))
    return apply


def bytes_on_line(line: int, data: bytes) -> Callable[[Path], None]:
    """Insert raw bytes in the middle of a line (Latin-1 'é', a NUL ...)."""
    def apply(path: Path) -> None:
        lines = path.read_bytes().split(b"\n")
        text = lines[line - 1]
        cut = text.rfind(b",") + 2 if b"," in text else len(text) // 2  # inside the last field
        lines[line - 1] = text[:cut] + data + text[cut:]
        path.write_bytes(b"\n".join(lines))
    return apply


def bom(path: Path) -> None:
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def cut_last_line(path: Path) -> None:
    """Cut the last line in the middle (an interrupted write or download)."""
    data = path.read_bytes().rstrip(b"\n")
    start = data.rfind(b"\n") + 1
    path.write_bytes(data[: start + max(1, (len(data) - start) // 2)])


def cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def sub(pattern: str, repl: str) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        text, n = re.subn(pattern, repl, path.read_text(encoding="utf-8"), count=1)
        assert n == 1, (path, pattern)
        path.write_text(text, encoding="utf-8")
    return apply


def edit_json(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return apply


def contradict_matrix(path: Path) -> None:
    """Flip the first vote cell of participants-votes.csv so it disagrees with votes.csv."""
    rows = _rows(path)
    for row in rows[1:]:
        for k, name in enumerate(rows[0]):
            if name.isdigit() and row[k] in ("1", "-1", "0"):
                row[k] = "1" if row[k] != "1" else "-1"
                _write_rows(path, rows)
                return
    raise AssertionError("no vote cell")


def _set(path: list, value):
    def change(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


def _same_id(data):
    data["values"][1]["id"] = data["values"][0]["id"]


# ---------------------------------------------------------------- the table

POLIS = [  # (case, file in sim/, mutation, expected message or None to accept)
    ("fraction-id", "votes.csv", set_cell(3, "voter-id", "1.5"),
     r"votes\.csv, line 3, column 'voter-id': expected an integer, found '1\.5'"),
    ("huge-timestamp", "comments.csv", set_cell(2, "timestamp", "1e308"),
     r"comments\.csv, line 2, column 'timestamp': 1e308 is out of range"),
    ("huge-author", "comments.csv", set_cell(3, "author-id", str(10**20)),
     r"comments\.csv, line 3, column 'author-id': 100000000000000000000 is out of range"),
    ("negative-voter", "votes.csv", set_cell(2, "voter-id", "-5"),
     r"votes\.csv, line 2, column 'voter-id': -5 is out of range \(0 to 2147483647\)"),
    ("header-only-comments", "comments.csv", header_only,
     r"votes\.csv, line 2, column 'comment-id': comment id \d+ is not in comments\.csv"),
    ("duplicated-comment", "comments.csv", duplicate_line(2),
     r"comments\.csv, line 3, column 'comment-id': comment id 0 already used on line 2"),
    ("unknown-comment", "votes.csv", set_cell(5, "comment-id", "9999"),
     r"votes\.csv, line 5, column 'comment-id': comment id 9999 is not in comments\.csv"),
    ("contradicting-matrix", "participants-votes.csv", contradict_matrix,
     r"participants-votes\.csv, line \d+, column '\d+': cell is -?1 but the latest vote in "
     r"votes\.csv is"),
    ("vote-yes", "votes.csv", set_cell(4, "vote", "yes"),
     r"votes\.csv, line 4, column 'vote': expected an integer, found 'yes'"),
    ("vote-nan", "votes.csv", set_cell(4, "vote", "nan"),
     r"votes\.csv, line 4, column 'vote': expected an integer, found 'nan'"),
    ("vote-5", "votes.csv", set_cell(6, "vote", "5"),
     r"votes\.csv, line 6, column 'vote': value 5 is not one of \[-1, 0, 1\]"),
    ("missing-column", "votes.csv", drop_column("vote"),
     r"votes\.csv, line 1: missing column 'vote'"),
    ("renamed-column", "votes.csv", rename_column("voter-id", "voter"),
     r"votes\.csv, line 1: missing column 'voter-id'"),
    ("latin-1", "comments.csv", bytes_on_line(3, b"caf\xe9"),
     r"comments\.csv: not UTF-8 text \(byte 0xe9 on line 3\)"),
    ("nul", "votes.csv", bytes_on_line(6, b"\x00"), r"votes\.csv, line 6: a NUL byte"),
    ("truncated", "votes.csv", cut_last_line,
     r"votes\.csv, line \d+(, column 'vote')?: (\d fields but the header has 5|expected)"),
    ("unterminated-quote", "comments.csv", sub(r"\n$", '\n1,x,99,0,0,0,1,"open\n'),
     r"comments\.csv, line \d+: (malformed CSV|\d+ fields)"),
    ("moderated-2", "comments.csv", set_cell(2, "moderated", "2"),
     r"comments\.csv, line 2, column 'moderated': value 2 is not one of \[-1, 0, 1\]"),
    ("bom", "votes.csv", bom, None),
    ("bom-comments", "comments.csv", bom, None),
]

OTHERS = [  # (command, file, mutation, expected message or None to accept)
    # population.json -> panel quotas
    ("quotas", "sim/population.json", sub(r"(\"features\": \{\s*\"[^\"]+\": \{\s*\"[^\"]+\": )"
                                          r"[0-9.]+", r"\1NaN"),
     r"population\.json, line \d+: field '[^']+' is NaN, not a finite number"),
    ("quotas", "sim/population.json", edit_json(lambda d: d.pop("features")),
     r"population\.json: no 'features' object beside the provenance"),
    ("quotas", "sim/population.json", sub(r"(\"features\": \{\s*\"[^\"]+\": \{\s*\"[^\"]+\": )"
                                          r"[0-9.]+", r'\1"half"'),
     r"population\.json: \S+: share must be a number from 0 to 1, got 'half'"),
    ("quotas", "sim/population.json", sub(r"(\"features\": \{\s*\"[^\"]+\": \{\s*\"[^\"]+\": )"
                                          r"[0-9.]+", r"\g<1>1e400"),
     r"population\.json, line \d+: field '[^']+' is 1e400, not a finite number"),
    ("quotas", "sim/population.json", bytes_on_line(3, b"caf\xe9"),
     r"population\.json: not UTF-8 text \(byte 0xe9 on line 3\)"),
    ("quotas", "sim/population.json", sub(r"\}\s*$", ""),
     r"population\.json, line \d+: invalid JSON"),
    ("quotas", "sim/population.json", bom, None),
    # pool.csv and quotas.csv -> panel select
    ("select", "sim/pool.csv", drop_column("region"),
     r"pool\.csv, line 1: no column 'region', which \S*quotas\.csv \(line \d+\) has quotas for"),
    ("select", "sim/pool.csv", duplicate_line(2),
     r"pool\.csv, line 3, column 'id': duplicate id 'P0001' \(first on line 2\)"),
    ("select", "sim/pool.csv", bytes_on_line(4, b"\xe9"),
     r"pool\.csv: not UTF-8 text \(byte 0xe9 on line 4\)"),
    ("select", "sim/pool.csv", bytes_on_line(4, b"\x00"), r"pool\.csv, line 4: a NUL byte"),
    ("select", "quotas.csv", set_cell(2, "min", "yes"),
     r"quotas\.csv, line 2, column 'min': min must be a whole number >= 0, got 'yes'"),
    ("select", "quotas.csv", set_cell(2, "max", "nan"),
     r"quotas\.csv, line 2, column 'max': max must be a whole number >= 0, got 'nan'"),
    ("select", "quotas.csv", drop_column("max"), r"quotas\.csv, line 1: missing column"),
    ("select", "sim/pool.csv", bom, None),
    ("select", "quotas.csv", bom, None),
    # constitution.yaml -> constitution check
    ("constitution", "constitution.yaml", sub(r"gac: 0\.81", "gac: .nan"),
     r"constitution\.yaml, line 14, column 'clauses\[0\]\.statements\[0\]\.gac': expected a "
     r"finite number, got nan"),
    ("constitution", "constitution.yaml", sub(r"bridging: 0\.4", "bridging: .inf"),
     r"constitution\.yaml, line 15, column 'clauses\[0\]\.statements\[0\]\.bridging': expected "
     r"a finite number, got inf"),
    ("constitution", "constitution.yaml", sub(r"provenance: \{seed: 0\}",
                                              "provenance: {seed: 0, rules: {max: .inf}}"),
     r"constitution\.yaml, line 3, column 'provenance\.rules\.max': expected a finite number, "
     r"got inf"),
    ("constitution", "constitution.yaml", sub(r"text: Be honest about uncertainty\.",
                                              "text: Be honest.\n    provenance: {share: .nan}"),
     r"column 'clauses\[0\]\.provenance\.share': expected a finite number, got nan"),
    ("constitution", "constitution.yaml", sub(r"agree: 40", "agree: -1"),
     r"line 10, column 'clauses\[0\]\.statements\[0\]\.agree': expected a whole number ≥ 0"),
    ("constitution", "constitution.yaml", sub(r"- id: 3", f"- id: {10**20}"),
     r"column 'clauses\[0\]\.statements\[0\]\.id': 100000000000000000000 is too large"),
    ("constitution", "constitution.yaml", bytes_on_line(6, b"\xe9"),
     r"constitution\.yaml: not UTF-8 text \(byte 0xe9 on line 6\)"),
    ("constitution", "constitution.yaml", sub(r"statements:", "statements: [\n"),
     r"constitution\.yaml, line \d+: not valid YAML"),
    ("constitution", "constitution.yaml", bytes_on_line(6, b"\x00"),
     r"constitution\.yaml, line 6: not valid YAML: a NUL byte"),
    ("constitution", "constitution.yaml", bom, None),
    # graph.json -> moralgraph check
    ("graph", "graph.json", sub(r"\"pageRank\": [0-9.e-]+", '"pageRank": NaN'),
     r"graph\.json, line \d+: field 'pageRank' is NaN, not a finite number"),
    ("graph", "graph.json", edit_json(_same_id),
     r"graph\.json: values\[1\]: value id \S+ is used twice \(first by values\[0\]\)"),
    ("graph", "graph.json", edit_json(_set(["edges", 0, "wiserValueId"], 99999)),
     r"graph\.json: edges\[0\]: wiserValueId 99999 is not a value of this graph"),
    ("graph", "graph.json", edit_json(_set(["edges", 0, "counts", "markedWiser"], -1)),
     r"graph\.json: edges\[0\]: 'counts\.markedWiser' must be a whole number >= 0"),
    ("graph", "graph.json", cut_in_half, r"graph\.json, line \d+: invalid JSON"),
    ("graph", "graph.json", bytes_on_line(5, b"\xe9"),
     r"graph\.json: not UTF-8 text \(byte 0xe9 on line 5\)"),
    ("graph", "graph.json", bom, None),
    # edges.csv and values cards -> moralgraph summarize
    ("summarize", "edges.csv", set_cell(2, "from", "1e308"),
     r"edges\.csv, line 2, column 'from': value '1e308' is not among the values cards of "
     r"cards\.json"),
    ("summarize", "edges.csv", set_cell(3, "to", "99999"),
     r"edges\.csv, line 3, column 'to': value 99999 is not among the values cards"),
    ("summarize", "edges.csv", set_cell(2, "relationship", "better"),
     r"edges\.csv, line 2, column 'relationship': relationship 'better' is not one of"),
    ("summarize", "edges.csv", drop_column("context"), r"edges\.csv: missing field\(s\) context"),
    ("summarize", "edges.csv", bytes_on_line(4, b"\xe9"),
     r"edges\.csv: not UTF-8 text \(byte 0xe9 on line 4\)"),
    ("summarize", "edges.csv", bytes_on_line(4, b"\x00"), r"edges\.csv, line 4: a NUL byte"),
    ("summarize", "cards.json", sub(r"\"id\": 1,", '"id": NaN,'),
     r"cards\.json, line \d+: field 'id' is NaN, not a finite number"),
    ("summarize", "edges.csv", bom, None),
    ("summarize", "cards.json", bom, None),
    # PRISM -> data import-prism
    ("prism", "prism/conversations.jsonl", sub(r"\"score\": 80", '"score": NaN'),
     r"conversations\.jsonl, line 1: field 'score' is NaN, not a finite number"),
    ("prism", "prism/survey.jsonl", duplicate_line(1),
     r"survey\.jsonl, line 2, column 'user_id': user 'user0' is already listed on line 1"),
    ("prism", "prism/conversations.jsonl", sub(r"\"user_id\": \"user0\"", '"user_id": "ghost"'),
     r"conversations\.jsonl, line 1, column 'user_id': user 'ghost' is not in survey\.jsonl"),
    ("prism", "prism/survey.jsonl", bytes_on_line(2, b"\xe9"),
     r"survey\.jsonl, line 2: not UTF-8 text \(byte 0xe9\)"),
    ("prism", "prism/conversations.jsonl", cut_last_line,
     r"conversations\.jsonl, line 2: invalid JSON"),
    ("prism", "prism/conversations.jsonl", bom, None),
    ("prism", "prism/survey.jsonl", bom, None),
    # preference JSONL -> data check
    ("prefs", "prefs.jsonl", sub(r"\"weight\": 1\.0", '"weight": NaN'),
     r"prefs\.jsonl, line 1: field 'weight' is NaN, not a finite number"),
    ("prefs", "prefs.jsonl", sub(r"\"weight\": 1\.0", '"weight": 1e400'),
     r"prefs\.jsonl, line 1: field 'weight' is 1e400, not a finite number"),
    ("prefs", "prefs.jsonl", sub(r"\n$", "\n[1, 2]\n"),
     r"prefs\.jsonl, line 4: expected a JSON object, found list"),
    ("prefs", "prefs.jsonl", sub(r"\"chosen\": \"Good answer 1\.\", ", ""),
     r"prefs\.jsonl, line 2.*'chosen'"),
    ("prefs", "prefs.jsonl", bytes_on_line(2, b"\xe9"),
     r"prefs\.jsonl, line 2: not UTF-8 text \(byte 0xe9\)"),
    ("prefs", "prefs.jsonl", cut_last_line, r"prefs\.jsonl, line 3: invalid JSON"),
    ("prefs", "prefs.jsonl", bom, None),
    # pipeline.yaml -> run (the example names a missing conversation: a valid file ends there)
    ("run", "pipeline.yaml", sub(r"slack: 0\.1", "slack: .nan"),
     r"pipeline\.yaml, line 4: field 'panel\.slack': Input should be a finite number"),
    ("run", "pipeline.yaml", sub(r"size: 10", "size: many"),
     r"pipeline\.yaml, line 4: field 'panel\.size'"),
    ("run", "pipeline.yaml", bytes_on_line(1, b"\xe9"),
     r"pipeline\.yaml: not UTF-8 text \(byte 0xe9 on line 1\)"),
    ("run", "pipeline.yaml", sub(r"inputs:", "inputs: [\n"), r"pipeline\.yaml, line \d+"),
    ("run", "pipeline.yaml", bytes_on_line(2, b"\x00"),
     r"pipeline\.yaml, line 2: not valid YAML: a NUL byte"),
    ("run", "pipeline.yaml", bom, r"missing-conversation: field 'inputs\.polis': not found"),
]


def _command(kind: str, folder: Path) -> tuple:
    f = folder
    return {
        "import": ("import", "polis", f / "sim", "--db", f / "store.db"),
        "aggregate": ("aggregate", f / "sim", "--out", f / "agg"),
        "quotas": ("panel", "quotas", "--population", f / "sim" / "population.json",
                   "--size", "10", "--out", f / "q.csv"),
        "select": ("panel", "select", "--pool", f / "sim" / "pool.csv", "--quotas",
                   f / "quotas.csv", "--size", "10", "--out", f / "panel"),
        "constitution": ("constitution", "check", f / "constitution.yaml"),
        "graph": ("moralgraph", "check", f / "graph.json", "--min-marked-wiser", "1"),
        "summarize": ("moralgraph", "summarize", f / "edges.csv", "--values", f / "cards.json",
                      "--out", f / "g.json", "--min-marked-wiser", "1"),
        "prism": ("data", "import-prism", f / "prism", "--out", f / "p.jsonl"),
        "prefs": ("data", "check", f / "prefs.jsonl"),
        "run": ("run", f / "pipeline.yaml"),
    }[kind]


def _check(capsys, kind: str, folder: Path, expected: str | None) -> None:
    r = invoke(capsys, *_command(kind, folder))
    assert "Traceback" not in r.stderr, r.stderr
    if expected is None and kind != "run":
        assert r.returncode == 0, r.stderr
        return
    assert r.returncode == 1, (r.returncode, r.stdout[-500:], r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, r.stderr  # the error, and at most a hint
    assert len(lines) == 1 or lines[1].startswith("  hint: "), r.stderr
    assert lines[0].startswith("error: "), r.stderr
    assert re.search(expected, lines[0]), (expected, lines[0])
    if kind == "import":  # all or nothing: a refused import stores no assembly
        db = folder / "store.db"
        if db.exists():
            with sqlite3.connect(db) as conn:
                assert conn.execute("select count(*) from assembly").fetchone()[0] == 0


@pytest.mark.parametrize("kind", ["import", "aggregate"])
@pytest.mark.parametrize(("case", "file", "mutate", "expected"), POLIS, ids=[c[0] for c in POLIS])
def test_polis_folders_are_read_one_strict_way(base, tmp_path, capsys, kind, case, file, mutate,
                                               expected):
    folder = tmp_path / "in"
    shutil.copytree(base, folder)
    mutate(folder / "sim" / file)
    _check(capsys, kind, folder, expected)


@pytest.mark.parametrize(
    ("kind", "file", "mutate", "expected"),
    OTHERS,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(OTHERS)],
)
def test_every_reader_refuses_broken_files_cleanly(base, tmp_path, capsys, kind, file, mutate,
                                                   expected):
    folder = tmp_path / "in"
    shutil.copytree(base, folder)
    mutate(folder / file)
    _check(capsys, kind, folder, expected)
