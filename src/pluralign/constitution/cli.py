"""``pluralign constitution``: draft a constitution from votes; check or render an edited one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.aggregate.settings import AggregateSettings
from pluralign.clikit import DbOption, OutOption, SeedOption, console
from pluralign.constitution.settings import ConstitutionSettings
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
from pluralign.sensemaking.cliopts import ConversationArgument, OfflineOption, SlugOption

constitution_app = typer.Typer(
    help="Constitution clauses from cross-group consensus.", no_args_is_help=True
)


S = ConstitutionSettings


def _opt(name: str, **kw):
    """A typer option whose help is the settings field's."""
    return typer.Option(help=help_of(S, name), **kw)


@constitution_app.command("draft")
def draft_cmd(
    folder: ConversationArgument = None,
    out: OutOption = Path("constitution-out"),
    db: DbOption = None,
    slug: SlugOption = None,
    seed: SeedOption = 0,
    title: Annotated[str, _opt("title")] = default(S, "title"),
    style: Annotated[str, _opt("style")] = default(S, "style"),
    max_clauses: Annotated[int | None, _opt("max_clauses")] = default(S, "max_clauses"),
    min_gac: Annotated[float | None, _opt("min_gac")] = default(S, "min_gac"),
    consensus_method: Annotated[str, _opt("consensus_method")] = default(S, "consensus_method"),
    min_posterior: Annotated[float, _opt("min_posterior")] = default(S, "min_posterior"),
    min_agree_share: Annotated[float, _opt("min_agree_share")] = default(S, "min_agree_share"),
    max_disagree_share: Annotated[float, _opt("max_disagree_share")] = default(
        S, "max_disagree_share"),
    prior_votes: Annotated[float, _opt("prior_votes")] = default(S, "prior_votes"),
    check_halves: Annotated[bool, _opt("check_halves")] = default(S, "check_halves"),
    min_group_agreement: Annotated[float, _opt("min_group_agreement")] = default(
        S, "min_group_agreement"),
    min_group_votes: Annotated[int, _opt("min_group_votes")] = default(S, "min_group_votes"),
    min_group_coverage: Annotated[float, _opt("min_group_coverage")] = default(
        S, "min_group_coverage"),
    interval_z: Annotated[float, _opt("interval_z")] = default(S, "interval_z"),
    min_subgroup_agreement: Annotated[float | None, _opt("min_subgroup_agreement")] = default(
        S, "min_subgroup_agreement"),
    merge_threshold: Annotated[float | None, _opt("merge_threshold")] = default(
        S, "merge_threshold"),
    embedder: Annotated[str, _opt("embedder")] = default(S, "embedder"),
    attempts: Annotated[int, _opt("attempts")] = default(S, "attempts"),
    keep_flagged: Annotated[bool, typer.Option(
        "--keep-flagged", help=help_of(S, "keep_flagged"))] = default(S, "keep_flagged"),
    min_votes: Annotated[int, typer.Option(help=help_of(AggregateSettings, "min_votes"))] = (
        default(AggregateSettings, "min_votes")),
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
    """Draft OUT/constitution.yaml and OUT/constitution.md from the votes: consensus statements
    grouped by topic, merged when they say the same thing, reworded by the LLM (the embedded
    SmolLM2 unless told otherwise) and checked for faithfulness; flagged clauses come first."""
    import time

    from pluralign.constitution.stage import STAGE, ConstitutionInputs
    from pluralign.contract import from_options
    from pluralign.sensemaking.cliopts import aggregate_conversation, open_writer

    settings = from_options(
        S, title=title, min_gac=min_gac, consensus_method=consensus_method,
        min_posterior=min_posterior, min_agree_share=min_agree_share,
        max_disagree_share=max_disagree_share, prior_votes=prior_votes, check_halves=check_halves,
        min_group_agreement=min_group_agreement,
        min_group_votes=min_group_votes, min_group_coverage=min_group_coverage,
        interval_z=interval_z,
        min_subgroup_agreement=min_subgroup_agreement or None, merge_threshold=merge_threshold,
        embedder=embedder, max_clauses=max_clauses, style=style, attempts=attempts,
        keep_flagged=keep_flagged)
    started = time.perf_counter()
    result = aggregate_conversation(folder, db, slug, seed, min_votes)
    flags = ProviderFlags.of(locals())
    use_llm = not offline and style != "verbatim"
    with open_writer(flags, not use_llm, seed, out / "llm-cache") as writer:
        drafted = STAGE.run(ConstitutionInputs(aggregate=result, writer=writer), settings, seed)
    yaml_path, md_path = drafted.write(out)
    constitution = drafted.constitution
    p = constitution.provenance
    console.print(
        f"{p['clauses']} clauses in {len(constitution.topics)} topics from {p['candidates']} "
        f"consensus statements ({result.n_groups} opinion groups); {p['merged_statements']} "
        f"merged, {p['reworded']} reworded, {p.get('framed', 0)} in the style's frame (every draft "
        f"flagged), {p['flagged']} flagged for review"
        + (f", {len(p['excluded'])} describing the voter left out" if p["excluded"] else "")
        + f" ({time.perf_counter() - started:.0f} s)",
        highlight=False,
    )
    note = (p.get("writer") or {}).get("note")
    if use_llm and note:  # the LLM was asked for but not used (e.g. a language it cannot write)
        console.print(note, highlight=False)
    if not constitution.clauses and p["excluded"]:
        console.print("every consensus statement describes the voter (see constitution.md)")
    elif not constitution.clauses:
        from pluralign.constitution.draft import no_consensus_reason

        why = no_consensus_reason(result, settings, lambda f: "--" + f.replace("_", "-"))
        console.print(f"no statement is cross-group consensus: {why}")
    console.print(f"wrote {yaml_path} and {md_path}")


@constitution_app.command("check")
def check_cmd(
    path: Annotated[Path, typer.Argument(help="constitution.yaml to validate.")],
    votes: Annotated[
        Path | None,
        typer.Option(
            "--votes",
            help="Polis export folder the constitution was drafted from: "
            "verify every cited statement and its votes, and re-check each clause.",
        ),
    ] = None,
    db: DbOption = None,
    slug: SlugOption = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Aggregation seed (default: the recorded one).")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when a clause is flagged or a vote differs.")
    ] = False,
) -> None:
    """Validate a (hand-edited) constitution.yaml; with --votes (or --db/--slug), check that it
    still stands on the conversation's votes."""
    from pluralign.constitution import load_constitution
    from pluralign.errors import InputError

    c = load_constitution(path)
    n_ev = sum(len(cl.evidence) for cl in c.clauses)
    if votes is None and slug is None:
        console.print(f"{path}: valid; {len(c.clauses)} clauses backed by {n_ev} statements")
        return
    from pluralign.constitution.check import check_against
    from pluralign.sensemaking.cliopts import aggregate_conversation
    from pluralign.sensemaking.faithful import KINDS

    used = seed if seed is not None else int((c.provenance or {}).get("seed", 0))
    result = aggregate_conversation(votes, db, slug, used)
    report = check_against(c, result, str(path), path.read_text(encoding="utf-8"))
    for w in report.warnings:
        console.print(f"warning: {w}", highlight=False)
    for cid, found in report.flags.items():
        for f in found:
            console.print(f"{cid}: {KINDS.get(f.kind, f.kind)}: {f.detail}", highlight=False)
    console.print(
        f"{path}: {report.clauses} clauses backed by {report.statements} statements, all in "
        f"the conversation; {len(report.flags)} flagged, {len(report.warnings)} warnings",
        highlight=False,
    )
    if strict and (report.flags or report.warnings):
        raise InputError(
            f"{len(report.flags)} flagged clause(s), {len(report.warnings)} warning(s)",
            where=str(path),
        )


@constitution_app.command("diff")
def diff_cmd(
    a: Annotated[Path, typer.Argument(help="First constitution (YAML).")],
    b: Annotated[Path, typer.Argument(help="Second constitution (YAML).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the Markdown comparison here.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the comparison as JSON here.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            help="Cosine at which two clauses mean the same (default 0.6 MiniLM, 0.3 TF-IDF)."
        ),
    ] = None,
    embedder: Annotated[str, _opt("embedder")] = default(S, "embedder"),
) -> None:
    """Match the clauses of two constitutions by meaning: shared, only in A, only in B."""
    from pluralign.constitution.diff import diff_constitutions, read_sides

    d = diff_constitutions(read_sides(a), read_sides(b), embedder=embedder, threshold=threshold)
    text = d.to_markdown(a.name, b.name)
    if out is not None:
        from pluralign.io import atomic_write_text

        atomic_write_text(out, text)
    if json_out is not None:
        from pluralign.io import write_json_atomic

        write_json_atomic(json_out, d.to_dict())
    if out is None:
        console.print(text, highlight=False, markup=False)
    else:
        console.print(
            f"{len(d.shared)} shared, {len(d.only_a)} only in {a.name}, "
            f"{len(d.only_b)} only in {b.name}; wrote {out}",
            highlight=False,
        )


@constitution_app.command("render")
def render_cmd(
    path: Annotated[Path, typer.Argument(help="constitution.yaml to render.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Markdown file to write (default: beside the YAML)."),
    ] = None,
) -> None:
    """Re-write constitution.md from a (hand-edited) constitution.yaml."""
    from pluralign.constitution import load_constitution
    from pluralign.io import atomic_write_text

    c = load_constitution(path)
    target = out or path.with_suffix(".md")
    atomic_write_text(target, c.to_markdown())
    console.print(f"wrote {target}")


def register(app: typer.Typer) -> None:
    app.add_typer(constitution_app, name="constitution")
