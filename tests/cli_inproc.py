"""Run ``pluralign ARGS`` in this process (``pluralign.cli.main``) with pytest's capsys: like
``conftest.run_cli`` but without a new interpreter's start-up, for tests that run many commands.
Importable from every test folder (``tests/`` is on sys.path beside the root conftest)."""

from __future__ import annotations


class Result:
    """What a command left: its exit code and the text it printed."""

    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def invoke(capsys, *args) -> Result:
    """Run the CLI with ``args`` (made text) and capture its exit code, stdout and stderr."""
    from pluralign.cli import main

    capsys.readouterr()
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return Result(code, out.out, out.err)


def run_inproc(capsys, *args) -> tuple[int, str, str]:
    """(exit code, stdout, stderr with its white space folded: error panels wrap lines)."""
    r = invoke(capsys, *args)
    return r.returncode, r.stdout, " ".join(r.stderr.split())
