"""What the sensemaking and constitution commands share: reading a conversation (a Polis
export folder or an assembly in the store) and opening the LLM writer (the embedded SmolLM2 by
default, any server or checkpoint with the usual provider flags, none with ``--offline``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import console
from pluralign.llm.options import (
    ProviderFlags,
)

OfflineOption = Annotated[
    bool,
    typer.Option(
        "--offline",
        help="No LLM: keyword topic names, template sentences, clauses in the statements' own "
        "cleaned words (marked as not reworded).",
    ),
]
SlugOption = Annotated[
    str | None,
    typer.Option("--slug", help="Use this assembly from the store (with --db) instead of FOLDER."),
]
ConversationArgument = Annotated[
    Path | None,
    typer.Argument(help="Folder with Polis export CSVs (comments.csv, votes.csv)."),
]


def read_conversation(folder: Path | None, db: str | None, slug: str | None):
    """The vote matrix of a Polis export folder or of an assembly in the store."""
    from pluralign.aggregate import from_store, read_polis
    from pluralign.errors import InputError

    if (folder is None) == (slug is None):
        raise InputError("give either a FOLDER of Polis CSVs or --slug NAME (with --db)")
    return read_polis(folder) if folder is not None else from_store(db, slug)


def aggregate_conversation(folder, db, slug, seed: int, min_votes: int = 7, rule=None):
    """Read and aggregate a conversation; an empty one is a clear error."""
    from pluralign.aggregate import AggregateSettings, aggregate
    from pluralign.errors import InputError

    matrix = read_conversation(folder, db, slug)
    where = str(folder) if folder is not None else f"assembly {slug}"
    if matrix.shape[1] == 0:
        raise InputError(
            "the conversation has no statements",
            where=where,
            hint="a Polis export needs comments.csv rows that are not moderated out",
        )
    if matrix.n_votes == 0:
        raise InputError(
            "the conversation has no votes",
            where=where,
            hint="votes.csv must hold votes on its statements",
        )
    settings = AggregateSettings(min_votes=min_votes)
    with console.status("aggregating votes"):
        return aggregate(matrix, seed=seed, settings=settings)


@contextlib.contextmanager
def open_writer(flags: ProviderFlags, offline: bool, seed: int, default_cache: Path | None):
    """A :class:`~pluralign.sensemaking.writer.Writer` on the provider ``flags`` describe
    (request cache in ``default_cache`` unless ``--cache`` is given), or None with
    ``--offline``. The local model is loaded up front so a missing model is one clear error."""
    if offline:
        yield None
        return
    from dataclasses import replace

    from pluralign.errors import PluralignError
    from pluralign.sensemaking.writer import Writer

    if flags.cache is None and default_cache is not None:
        flags = replace(flags, cache=default_cache)
    if flags.concurrency is None:
        flags = replace(flags, concurrency=16)
    provider = flags.open()
    try:
        if hasattr(provider, "loaded"):
            try:
                with console.status("loading the model"):
                    provider.loaded()
            except PluralignError as exc:
                exc.hint = (exc.hint + "; " if exc.hint else "") + "or pass --offline"
                raise
        progress = _Progress()
        with progress:
            yield Writer(provider, seed=seed, progress=progress.update)
        usage = provider.usage
        console.print(
            f"LLM {provider.model_name()}: {usage.requests} requests, {usage.cache_hits} from "
            f"the cache, {usage.prompt_tokens} tokens in / {usage.completion_tokens} out",
            highlight=False,
        )
    finally:
        provider.close()


class _Progress:
    """One rich progress bar per LLM step."""

    def __init__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.bar = Progress(
            "{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)

    def update(self, done: int, total: int, what: str) -> None:
        if what not in self.tasks:
            self.tasks[what] = self.bar.add_task(what, total=total)
        self.bar.update(self.tasks[what], completed=done, total=total)
