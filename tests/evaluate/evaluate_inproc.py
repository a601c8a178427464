"""Run the CLI in-process (fast) and return (exit code, stdout, stderr) from pytest's capsys."""

from __future__ import annotations


def run_inproc(capsys, *args) -> tuple[int, str, str]:
    from pluralign.cli import main

    capsys.readouterr()
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, " ".join(out.err.split())
