"""The CLI builds a command only when it is looked up: ``pluralign --help`` lists every command
from the table in ``pluralign.cli`` without importing a stage module, ``pluralign panel ...``
imports the panel's module and no other stage's, and both print what the fully built tree
prints."""

from __future__ import annotations

import inspect
import pprint
import subprocess
import sys

import pytest

from cli_inproc import invoke
from conftest import REPO
from pluralign import cli

SRC = REPO / "src" / "pluralign"


def _first_paragraph(command) -> str:
    return inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0].strip()


def test_the_command_table_is_what_the_stage_modules_register():
    """COMMANDS and GROUPS name every command of every stage module with its module and the
    help ``pluralign --help`` shows; on a difference the message is the table to paste."""
    registers = sorted(
        ".".join(("pluralign", *p.relative_to(SRC).with_suffix("").parts))
        for p in SRC.rglob("*.py") if "\ndef register(app" in p.read_text(encoding="utf-8")
    )
    listed = {module for module, _ in (*cli.COMMANDS.values(), *cli.GROUPS.values())}
    # the features' modules register through the plugin hook instead (tests/test_plugins.py)
    assert sorted(listed | {"pluralign.moralgraph.cli", "pluralign.publiceval.cli"}) == registers
    commands, groups = {}, {}
    for module in dict.fromkeys(m for m, _ in (*cli.COMMANDS.values(), *cli.GROUPS.values())):
        for name, command in cli._module_commands(module).items():
            table = groups if hasattr(command, "commands") else commands
            table[name] = (module, _first_paragraph(command))
    assert commands == cli.COMMANDS, "COMMANDS = " + pprint.pformat(commands, sort_dicts=False)
    assert groups == cli.GROUPS, "GROUPS = " + pprint.pformat(groups, sort_dicts=False)


def test_root_help_builds_nothing_and_prints_what_the_built_tree_prints(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    roots, click_command = [], cli.click_command

    def lazy():
        roots.append(click_command())
        return roots[-1]

    monkeypatch.setattr(cli, "click_command", lazy)
    listed = invoke(capsys, "--help")
    assert listed.returncode == 0 and "eval-public" in listed.stdout
    assert roots[0].commands._built == {}, "--help built commands"

    def built():
        root = lazy()
        root.commands = dict(root.commands.items())  # every command built, a plain dict
        return root

    monkeypatch.setattr(cli, "click_command", built)
    assert invoke(capsys, "--help").stdout == listed.stdout


@pytest.mark.parametrize(
    ("args", "stage_module"),
    [
        (["--help"], None),
        (["panel", "--help"], "pluralign.panel.cli"),
        (["demo", "--help"], "pluralign.run.cli"),
        (["db", "list", "--help"], "pluralign.store.cli"),
    ],
)
def test_a_command_imports_its_own_module_only(tmp_path, args, stage_module):
    """And no help page imports pydantic (typer parses values with it), markdown-it or pygments
    (typer's help module imports them for markdown help and tracebacks, unused here)."""
    modules = sorted({m for m, _ in (*cli.COMMANDS.values(), *cli.GROUPS.values())})
    code = (
        "import sys\n"
        "from pluralign.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        f"stages = [m for m in {modules!r} if m in sys.modules]\n"
        "libs = [m for m in ('pydantic', 'markdown_it', 'pygments', 'rich.markdown',"
        " 'rich.traceback') if m in sys.modules]\n"
        "print('STAGES', stages, 'LIBS', libs, file=sys.stderr)\n"
    )
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin",
           "PLURALIGN_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "100"}
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                       env=env, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Usage: pluralign" in r.stdout
    expected = [stage_module] if stage_module else []
    assert r.stderr.strip().splitlines()[-1] == f"STAGES {expected!r} LIBS []"


def test_the_deferred_help_classes_are_the_real_ones_once_used():
    """typer's help module holds stand-ins for Markdown and Traceback (see
    ``pluralign.cli._import_rich_help``); using one loads the real class."""
    code = (
        "import sys\n"
        "from pluralign.cli import _import_rich_help\n"
        "_import_rich_help()\n"
        "import typer.rich_utils as help\n"
        "assert 'rich.markdown' not in sys.modules and 'rich.traceback' not in sys.modules\n"
        "md = help.Markdown('some **bold** text')\n"
        "import rich.markdown, rich.traceback\n"
        "assert type(md) is rich.markdown.Markdown and isinstance(md, help.Markdown)\n"
        "assert help.Traceback.from_exception.__self__ is rich.traceback.Traceback\n"
        "from rich.markdown import Heading\n"  # the real module, whole
        "print('OK')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"},
                       timeout=120)
    assert r.stdout == "OK\n", r.stderr


def test_a_listed_command_its_module_does_not_register_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "gone", ("pluralign.report.cli", "Not there."))
    root = cli.click_command()
    with pytest.raises(RuntimeError, match="'gone' is listed but its module does not register"):
        root.commands["gone"]  # noqa: B018
