"""The ``pluralign`` command line: one thin command (group) per stage.

Commands parse their options, call the stage's public API and print the result. Each stage keeps
its commands in ``pluralign/<stage>/cli.py``; this module only mounts them. A
:class:`~pluralign.errors.PluralignError` is printed without a traceback and exits with status 1.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from pluralign import __version__
from pluralign.errors import PluralignError

app = typer.Typer(
    name="pluralign",
    help="Democratic fine-tuning of language models: panel → deliberation → aggregation → "
    "constitution → data → training → evaluation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pluralign {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """pluralign command line."""


# Stage modules that define `register(app)`; their imports stay light (heavy work runs in commands).
COMMAND_MODULES = (
    "pluralign.store.cli",
    "pluralign.panel.cli",
    "pluralign.simulate.cli",
    "pluralign.data.cli",
    "pluralign.demo",
    "pluralign.aggregate.cli",
    "pluralign.constitution.cli",
    "pluralign.data.prefs_cli",
    "pluralign.evaluate.cli",
    "pluralign.evaluate.public_cli",
    "pluralign.report.cli",
    "pluralign.moralgraph.cli",
    "pluralign.train.cli",
    "pluralign.llm.cli",
    "pluralign.web.cli",
    "pluralign.run_cli",
)


def _mount() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_mount()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``pluralign`` script."""
    try:
        app(args=argv, standalone_mode=False)
    except PluralignError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True,
                          soft_wrap=True)  # never break a file path or line number
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
