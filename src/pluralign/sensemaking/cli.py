"""``pluralign summarize``: topics and grounded summaries of a conversation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import DbOption, SeedOption, console
from pluralign.contract import default, help_of
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
from pluralign.sensemaking.cliopts import (
    ConversationArgument,
    OfflineOption,
    SlugOption,
    aggregate_conversation,
    open_writer,
)
from pluralign.sensemaking.settings import SensemakingSettings as _S


def summarize_cmd(
    folder: ConversationArgument = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("summary-out"),
    db: DbOption = None,
    slug: SlugOption = None,
    seed: SeedOption = 0,
    min_votes: Annotated[int, typer.Option("--min-votes", help=help_of(_S, "min_votes"))] = (
        default(_S, "min_votes")),
    per_topic: Annotated[int, typer.Option("--per-topic", help=help_of(_S, "per_topic"))] = (
        default(_S, "per_topic")),
    check: Annotated[
        Path | None,
        typer.Option(
            "--check",
            help="Verify this summary.json against the conversation "
            "instead of writing one; exit 1 if a sentence is not grounded.",
        ),
    ] = None,
    keep_ungrounded: Annotated[bool, typer.Option(
        "--keep-ungrounded", help=help_of(_S, "keep_ungrounded"))] = default(_S, "keep_ungrounded"),
    embedder: Annotated[str, typer.Option(help=help_of(_S, "embedder"))] = default(_S, "embedder"),
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
    from pluralign.contract import from_options

    settings = from_options(SensemakingSettings, embedder=embedder, min_votes=min_votes,
                            per_topic=per_topic, keep_ungrounded=keep_ungrounded)
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
