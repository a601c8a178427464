"""The ``pluralign`` command line: one thin command (group) per stage.

Commands parse their options, call the stage's public API and print the result. Each stage keeps
its commands in ``pluralign/<stage>/cli.py`` (commands that put several stages together, the LLM
ones, in ``pluralign/commands/``); this module mounts them lazily (:data:`COMMANDS`):
``pluralign --help`` lists them without importing a stage module, and ``pluralign panel ...``
imports the panel's and no other (``pluralign --help`` loads no numpy, pandas, SQLAlchemy,
pydantic or torch; tests/e2e/test_cli_lazy.py and test_cli_usage.py check it). A
:class:`~pluralign.errors.PluralignError` is printed as one line without a traceback and exits
with status 1; a usage error is one or two lines and exits with status 2.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import MutableMapping

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from pluralign import __version__
from pluralign.errors import PluralignError


class _LazyCommands(MutableMapping):
    """The root's subcommands by name: every name is known at once, and a command is built (its
    module imported, its functions turned into click commands by typer) the first time it is
    looked up. While :attr:`listing` is set (the root's ``--help``), a command not yet built is
    looked up as its stub: a command with its name and help only."""

    def __init__(self, entries: dict) -> None:
        self._entries = dict(entries)  # name -> (build: () -> {name: command, ...}, stub)
        self._built: dict = {}
        self.listing = False

    def __getitem__(self, name: str):
        if name not in self._built:
            build, stub = self._entries[name]
            if self.listing and stub is not None:
                return stub
            self._built.update(build())
            if name not in self._built:
                raise RuntimeError(f"pluralign.cli: {name!r} is listed but its module does not "
                                   "register it (COMMANDS and GROUPS in pluralign/cli.py)")
        return self._built[name]

    def __setitem__(self, name: str, command) -> None:  # click's add_command
        self._entries[name] = (lambda: {name: command}, command)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._entries[name]
        self._built.pop(name, None)

    def __contains__(self, name) -> bool:  # (Mapping's would build the command)
        return name in self._entries

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class _Root(TyperGroup):
    """The root group: its ``--help`` lists the subcommands from their stubs, building none."""

    def format_help(self, ctx, formatter) -> None:
        commands = self.commands
        if not isinstance(commands, _LazyCommands):
            return super().format_help(ctx, formatter)
        commands.listing = True
        try:
            return super().format_help(ctx, formatter)
        finally:
            commands.listing = False


app = typer.Typer(
    name="pluralign",
    help="Democratic fine-tuning of language models: panel → deliberation → aggregation → "
    "constitution → data → training → evaluation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=_Root,
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


# The stage modules' top-level commands: name -> (the module whose `register(app)` adds it, the
# first paragraph of its help, as `pluralign --help` lists it). `pluralign --help` lists the
# commands from here without importing a stage module, and `pluralign NAME ...` imports only
# NAME's module; tests/e2e/test_cli_lazy.py checks the table against what the modules register
# (and prints the table to paste when a command is added or its help changes). Commands come
# before groups, each in this order, as typer lists them; features add theirs through the
# `register_commands` hook (pluralign.plugins), after the stage modules' own.
COMMANDS: dict[str, tuple[str, str]] = {
    "simulate": ("pluralign.simulate.cli",
                 "Simulate an assembly on how AI assistants should behave."),
    "aggregate": ("pluralign.aggregate.cli", "Find opinion groups, representative statements, "
                  "consensus and bridging scores."),
    "summarize": ("pluralign.sensemaking.cli", "Per topic, what most of every opinion group "
                  "agrees on and where groups differ; every\nsentence cites statements and "
                  "per-group shares, checked against the votes."),
    "evaluate": ("pluralign.evaluate.cli", "Held-out preference accuracy per group: base model "
                 "(before) vs trained model (after);\nwith --compare, the differences between two "
                 "evaluated runs."),
    "report": ("pluralign.report.cli", "Write one self-contained HTML report of a run (sections "
               "for the files present)."),
    "train": ("pluralign.train.cli", "Train a model on weighted preference pairs "
              "(loss = Σ wᵢ·ℓᵢ / Σ wᵢ per effective batch)."),
    "serve": ("pluralign.commands.llm", "Serve a model as an OpenAI-compatible API at /v1 "
              "(default: the embedded SmolLM2)."),
    "interview": ("pluralign.commands.llm", "Interview a model about how it should behave; "
                  "review its clauses; write a constitution."),
    "judge": ("pluralign.commands.llm",
              "Judge model B against model A on a prompt set, per clause, in both orders."),
    "web": ("pluralign.web.cli", "Serve the assembly web app (participants at /a/<slug>, "
            "organisers at /admin)."),
    "demo": ("pluralign.run.cli", "The whole pipeline on a simulated assembly, fine-tuning the "
             "embedded SmolLM2-135M-Instruct\n(a few minutes on 2 CPU cores); ends with the path "
             "of OUT/report.html."),
    "run": ("pluralign.run.cli", "Run the pipeline a YAML file describes; re-runs skip stages "
            "that are up to date."),
    "init": ("pluralign.run.cli", "Write a commented example pipeline.yaml."),
}
GROUPS: dict[str, tuple[str, str]] = {
    "db": ("pluralign.store.cli", "The assembly store (SQLite by default, PostgreSQL by URL)."),
    "panel": ("pluralign.panel.cli", "Panel selection by sortition (legacy, maximin, leximin, "
              "nash): quotas, households, transparent lotteries, replacements, audit."),
    "import": ("pluralign.data.cli", "Load data from other tools into the store."),
    "export": ("pluralign.data.cli", "Write store data in other tools' formats."),
    "constitution": ("pluralign.constitution.cli",
                     "Constitution clauses from cross-group consensus."),
    "data": ("pluralign.data.prefs_cli", "Data in and out: preference pairs, PRISM and Community "
             "Alignment import, weighting."),
    "model": ("pluralign.train.cli", "Build local models for demos and tests."),
    "synth": ("pluralign.commands.llm", "Synthetic data from a constitution (resumable JSONL)."),
    "admin": ("pluralign.web.cli", "Organiser accounts of the web app."),
}


def _tidy(command) -> None:
    """Adjust the command tree before it runs.

    * A flag takes no value, so its help shows no value placeholder (typer 0.29 prints
      ``<bool>`` next to every flag, ``--help`` included).
    * A group called without a command is a usage error (see :func:`_usage_error`) rather than
      typer's full help page, which it raises as an exception after printing it.
    * ``--help`` defaults to ``False``, not ``None``: typer coerces a value that is not a bool
      through pydantic, which ``pluralign panel --help`` would import for the root's unset
      ``--help`` alone.
    """
    help_option = command.get_help_option(typer.Context(command, info_name=command.name))
    if help_option is not None and help_option.default is None:
        help_option.default = False
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    subcommands = getattr(command, "commands", None)
    if subcommands is not None:
        command.no_args_is_help = False
        if not isinstance(subcommands, _LazyCommands):
            for sub in subcommands.values():
                _tidy(sub)


def _typer_app(**settings) -> typer.Typer:
    """An app with the root's settings: typer builds a module's commands from one as it would
    from :data:`app` itself."""
    return typer.Typer(pretty_exceptions_enable=False, add_completion=False, **settings)


def _convert(sub: typer.Typer) -> dict:
    """``{name: click command}`` of everything registered on ``sub``, tidied."""
    if not (sub.registered_commands or sub.registered_groups):
        return {}
    built = dict(typer.main.get_group(sub).commands)
    for command in built.values():
        _tidy(command)
    return built


def _once(build):
    """``build`` run the first time the returned function is called, its result kept."""
    built: dict = {}

    def get() -> dict:
        if not built:
            built.update(build())
        return built

    return get


def _module_commands(module: str) -> dict:
    """The commands a stage module's ``register(app)`` adds, built."""
    import importlib

    sub = _typer_app()
    importlib.import_module(module).register(sub)
    return _convert(sub)


def _stub(name: str, help_text: str | None, info=None):
    """What ``pluralign --help`` lists for a command it has not built: its name and help, and
    (from typer's ``info``) the flags that decide whether and where it is listed."""
    from typer.core import TyperCommand

    flags = {}
    if info is not None:
        for key in ("short_help", "hidden", "deprecated", "rich_help_panel"):
            value = getattr(info, key, None)
            if not isinstance(value, typer.models.DefaultPlaceholder):
                flags[key] = value
    flags["hidden"], flags["deprecated"] = bool(flags.get("hidden")), bool(flags.get("deprecated"))
    return TyperCommand(name=name, help=help_text, **flags)


def _features() -> tuple[dict, dict]:
    """``(commands, groups)`` entries for :class:`_LazyCommands` of what features add through
    the ``register_commands`` hook (the moral graph, public evaluation, installed plugins),
    built together the first time one of them is looked up."""
    from pluralign.plugins import register_commands

    sub = _typer_app()
    register_commands(sub)
    build = _once(lambda: _convert(sub))
    if any(not typer.main.solve_typer_info_defaults(i).name for i in sub.registered_groups):
        # a group without a name adds its commands to the root: build all to know their names
        return {name: (build, command) for name, command in build().items()}, {}
    commands, groups = {}, {}
    for info in sub.registered_commands:
        name = info.name or typer.main.get_command_name(info.callback.__name__)
        help_text = inspect.cleandoc(info.help) if info.help else inspect.getdoc(info.callback)
        commands[name] = (build, _stub(name, help_text, info))
    for info in sub.registered_groups:
        solved = typer.main.solve_typer_info_defaults(info)
        groups[solved.name] = (build, _stub(solved.name, solved.help, solved))
    return commands, groups


def click_command():
    """The click command tree of :data:`app` as ``pluralign`` runs it (also used by clidocs).

    Its subcommands are built when first looked up (:class:`_LazyCommands`): ``pluralign panel
    ...`` imports the panel's module and no other stage's, ``pluralign --help`` none, and walking
    ``.commands`` builds them all."""
    root = typer.main.get_group(app)
    _tidy(root)
    builds: dict = {}

    def entries(table: dict) -> dict:
        return {name: (builds.setdefault(module, _once(lambda m=module: _module_commands(m))),
                       _stub(name, help_text))
                for name, (module, help_text) in table.items()}

    feature_commands, feature_groups = _features()
    root.commands = _LazyCommands(
        {**entries(COMMANDS), **feature_commands, **entries(GROUPS), **feature_groups})
    return root


class _Deferred(type):
    """Stands for a class of a module not imported yet: calling it, reading one of its
    attributes or checking an instance imports the module and uses the real class."""

    def _real(cls):
        import importlib

        return getattr(importlib.import_module(cls._module), cls.__name__)

    def __call__(cls, *args, **kwargs):
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, name: str):
        return getattr(cls._real(), name)

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, cls._real())


#: What typer's help module imports at its top and pluralign's help never uses: Markdown renders
#: help in typer's "markdown" mode (pluralign's is "rich"), Traceback typer's pretty exceptions
#: (off). The two modules (markdown-it-py, pygments) are 40% of `pluralign --help`.
_DEFERRED = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


def _import_rich_help() -> None:
    """Import ``typer.rich_utils`` (help pages) with :data:`_DEFERRED`'s classes standing in for
    theirs until first used; their modules load as usual when something imports them."""
    if "typer.rich_utils" in sys.modules:
        return
    import types

    stand_ins = {}
    for module, name in _DEFERRED.items():
        if module not in sys.modules:
            stand_ins[module] = types.ModuleType(module)
            setattr(stand_ins[module], name, _Deferred(name, (), {"_module": module}))
    sys.modules.update(stand_ins)
    try:
        import typer.rich_utils  # noqa: F401
    finally:
        for module, stand_in in stand_ins.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]


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
    args = sys.argv[1:] if argv is None else list(argv)
    if "--help" in args:
        _import_rich_help()
    try:
        click_command().main(args=args, prog_name="pluralign", standalone_mode=False)
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
