"""``pluralign summarize``: topics and grounded summaries of a conversation.

Also the helpers the constitution commands share: reading a conversation (a Polis export folder
or an assembly in the store) and opening the LLM writer (the embedded SmolLM2 by default, any
server or checkpoint with the usual provider flags, none with ``--offline``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import DbOption, SeedOption, console
from pluralign.llm.options import (
    AdapterOption,
    ApiKeyEnvOption,
    BaseUrlOption,
    CacheOption,
    CheckpointOption,
    ConcurrencyOption,
    ModelOption,
    ProviderConfigOption,
    ProviderFlags,
    RetriesOption,
    TimeoutOption,
)
from pluralign.sensemaking.settings import SensemakingSettings as _S

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


def summarize_cmd(
    folder: ConversationArgument = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("summary-out"),
    db: DbOption = None,
    slug: SlugOption = None,
    seed: SeedOption = 0,
    min_votes: Annotated[
        int, typer.Option("--min-votes", min=0, help="Leave out statements with fewer votes.")
    ] = _S.min_votes,
    per_topic: Annotated[
        int, typer.Option("--per-topic", min=0, help="Most common-ground sentences per topic.")
    ] = _S.per_topic,
    check: Annotated[
        Path | None,
        typer.Option(
            "--check",
            help="Verify this summary.json against the conversation "
            "instead of writing one; exit 1 if a sentence is not grounded.",
        ),
    ] = None,
    keep_ungrounded: Annotated[
        bool, typer.Option("--keep-ungrounded", help="Keep failing sentences, marked.")
    ] = False,
    embedder: Annotated[str, typer.Option(help="auto, minilm or tfidf.")] = _S.embedder,
    offline: OfflineOption = False,
    base_url: BaseUrlOption = None,
    model: ModelOption = None,
    api_key_env: ApiKeyEnvOption = None,
    checkpoint: CheckpointOption = None,
    adapter: AdapterOption = None,
    cache: CacheOption = None,
    concurrency: ConcurrencyOption = None,
    timeout: TimeoutOption = None,
    max_retries: RetriesOption = None,
    provider_config: ProviderConfigOption = None,
) -> None:
    """Per topic, what most of every opinion group agrees on and where groups differ; every
    sentence cites statements and per-group shares, checked against the votes."""
    from pluralign.errors import InputError
    from pluralign.sensemaking import SensemakingSettings, run
    from pluralign.sensemaking.summaries import Summary, verify

    result = aggregate_conversation(folder, db, slug, seed)
    if check is not None:
        from pluralign.io import read_json

        summary = Summary.from_dict(read_json(check, what="summary"), str(check))
        checked = verify(summary, result)
        bad = [s for s in checked.sentences if not s.grounded]
        for s in bad:
            console.print(f"not grounded: {s.text}\n  " + "; ".join(s.problems), highlight=False)
        share = checked.share_grounded
        console.print(
            f"{check}: {len(checked.sentences) - len(bad)} of "
            f"{len(checked.sentences)} sentences grounded"
            + ("" if share is None else f" ({share:.0%})"),
            highlight=False,
        )
        if bad:
            raise InputError(
                f"{len(bad)} sentence(s) are not grounded in the votes", where=str(check)
            )
        return
    settings = SensemakingSettings(
        embedder=embedder, min_votes=min_votes, per_topic=per_topic, keep_ungrounded=keep_ungrounded
    )
    flags = ProviderFlags.of(locals())
    with open_writer(flags, offline, seed, out / "llm-cache") as writer:
        sense = run(result, settings, seed=seed, writer=writer)
    sense.write(out)
    s = sense.summary
    share = s.share_grounded
    stab = sense.topics.stability or {}
    console.print(
        f"{len(sense.topics.topics)} topics (stability over seeds: leaf ARI "
        f"{stab.get('leaf_ari_mean', '–')}); {len(s.sentences)} sentences, grounded "
        + ("–" if share is None else f"{share:.0%}")
        + (f", {len(s.dropped)} dropped" if s.dropped else ""),
        highlight=False,
    )
    if not s.sentences:
        console.print(
            f"no statement has {min_votes} votes and a majority in every group or a "
            "split between groups; lower --min-votes?",
            highlight=False,
        )
    console.print(
        f"wrote {out / 'summary.md'}, {out / 'summary.json'}, {out / 'topics.json'}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("summarize")(summarize_cmd)
