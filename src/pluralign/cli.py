"""The ``pluralign`` command line: one thin command (group) per stage.

Commands parse their options, call the stage's public API and print the result. Each stage keeps
its commands in ``pluralign/<stage>/cli.py`` (commands that put several stages together, the LLM
ones, in ``pluralign/commands/``); this module only mounts them, so those modules
import nothing heavy at the top (``pluralign --help`` loads no numpy, pandas, SQLAlchemy or torch;
a test checks it). A :class:`~pluralign.errors.PluralignError` is printed as one line without a
traceback and exits with status 1; a usage error is one or two lines and exits with status 2.
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
# Features add theirs through the `register_commands` hook (pluralign.plugins).
COMMAND_MODULES = (
    "pluralign.store.cli",
    "pluralign.panel.cli",
    "pluralign.simulate.cli",
    "pluralign.data.cli",
    "pluralign.aggregate.cli",
    "pluralign.constitution.cli",
    "pluralign.sensemaking.cli",
    "pluralign.data.prefs_cli",
    "pluralign.evaluate.cli",
    "pluralign.report.cli",
    "pluralign.train.cli",
    "pluralign.commands.llm",
    "pluralign.web.cli",
    "pluralign.run.cli",
)


def _mount() -> None:
    import importlib

    from pluralign.plugins import register_commands

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    register_commands(app)  # features: the moral graph, public evaluation, installed plugins


_mount()


def _tidy(command) -> None:
    """Adjust the command tree before it runs.

    * A flag takes no value, so its help shows no value placeholder (typer 0.29 prints
      ``<bool>`` next to every flag, ``--help`` included).
    * A group called without a command is a usage error (see :func:`_usage_error`) rather than
      typer's full help page, which it raises as an exception after printing it.
    """
    help_option = command.get_help_option(typer.Context(command, info_name=command.name))
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    subcommands = getattr(command, "commands", None)
    if subcommands is not None:
        command.no_args_is_help = False
        for sub in subcommands.values():
            _tidy(sub)


def click_command():
    """The click command tree of :data:`app` as ``pluralign`` runs it (also used by clidocs)."""
    command = typer.main.get_command(app)
    _tidy(command)
    return command


def _usage_error(exc) -> int:
    """Print a usage error as one or two lines (never a traceback); returns the exit status.

    typer 0.29 carries its own copy of click, so its exceptions are not ``click``'s: they are
    recognised through ``typer.TyperException`` and the click exception interface (``ctx``,
    ``format_message``, ``exit_code``)."""
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "pluralign"
    if (ctx is not None and hasattr(ctx.command, "list_commands")
            and str(exc.format_message()).startswith("Missing command")):
        # a bare group (`pluralign`, `pluralign panel`): its usage and its commands
        names = ", ".join(ctx.command.list_commands(ctx))
        err_console.print(f"usage: {escape(path)} COMMAND [ARGS]...", highlight=False)
        err_console.print(f"  commands: {escape(names)}; '{escape(path)} COMMAND --help' "
                          "describes one", highlight=False, soft_wrap=True)
        return 2
    message = " ".join(str(exc.format_message()).split())
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if ctx is not None:
        err_console.print(f"  see '{escape(path)} --help'", highlight=False, soft_wrap=True)
    return int(getattr(exc, "exit_code", 2) or 2)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``pluralign`` script: exit 0 on success, 1 on a
    :class:`~pluralign.errors.PluralignError` (one line, no traceback), 2 on a usage error
    (one or two lines), 130 on Ctrl-C."""
    try:
        click_command().main(args=argv, prog_name="pluralign", standalone_mode=False)
    except PluralignError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True,
                          soft_wrap=True)  # never break a file path or line number
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if not isinstance(exc, _click_exceptions()):
            raise
        sys.exit(_usage_error(exc))


def _click_exceptions() -> tuple[type[BaseException], ...]:
    """Usage-error classes: typer >= 0.2x carries its own click (its ``ClickException`` derives
    from ``typer.TyperException``, not from ``click.ClickException``); older typer uses click."""
    kinds: list[type[BaseException]] = []
    if hasattr(typer, "TyperException"):
        kinds.append(typer.TyperException)
    try:
        import click
    except ImportError:
        pass
    else:
        kinds.append(click.ClickException)
    return tuple(kinds)
