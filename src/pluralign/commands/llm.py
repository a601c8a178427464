"""CLI of the LLM layer: ``pluralign serve``, ``pluralign synth ...``, ``pluralign interview``,
``pluralign judge``. Thin: parse flags into a ProviderSettings, read the constitution file with the
constitution's reader, call the LLM module, print a summary (above both stages, see
:mod:`pluralign.commands`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import console
from pluralign.contract import default, from_options, help_of
from pluralign.errors import InputError, ProviderError
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
    usage_line,
)
from pluralign.llm.settings import SynthSettings

synth_app = typer.Typer(
    help="Synthetic data from a constitution (resumable JSONL).", no_args_is_help=True
)

ConstitutionOption = Annotated[
    Path, typer.Option("--constitution", "-c", help="Constitution YAML (clauses with id and text).")
]
TemperatureOption = Annotated[float, typer.Option("--temperature", help="Sampling temperature.")]
MaxTokensOption = Annotated[int, typer.Option("--max-tokens", help="Tokens per completion.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Base seed of the requests.")]
LanguageOption = Annotated[
    str,
    typer.Option(
        "--language",
        help="Language every text must be in: auto (the clause's), a code such as en, or none.",
    ),
]
StepAttemptsOption = Annotated[
    int,
    typer.Option(
        "--attempts",
        min=1,
        help="Tries of each step (answer, critique, revision): the first greedy, the rest "
        "sampled at --temperature.",
    ),
]
ProgressOption = Annotated[
    bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
]


def _language(value: str) -> str | None:
    return None if value.lower() in ("none", "off", "") else value


def _gates_line(gates: dict) -> str:
    parts = []
    for step, s in gates.get("steps", {}).items():
        reasons = ", ".join(f"{r} {n}" for r, n in list(s["by_reason"].items())[:3])
        counts = f"{step} {s['rejected']}/{s['checked']}"
        parts.append(counts + (f" ({reasons})" if reasons else ""))
    return "rejected by the quality gates: " + ("; ".join(parts) or "nothing checked")


def _finish(summary) -> None:
    console.print(
        f"{summary.step}: wrote {summary.written}, already done "
        f"{summary.already_done}, skipped {summary.skipped}, failed {summary.failed}"
        f" → {summary.out}",
        highlight=False,
    )
    if summary.gates is not None:
        console.print(_gates_line(summary.gates), highlight=False)
    console.print(usage_line(summary.usage), highlight=False)
    if summary.failed:
        raise ProviderError(
            f"{summary.failed} item(s) failed; first error: {summary.errors[0]}",
            hint="finished items are kept: re-run the same command to retry the rest",
        )


_S = SynthSettings


@synth_app.command("questions")
def questions_cmd(
    constitution: ConstitutionOption,
    out: Annotated[Path, typer.Option("--out", help="Questions JSONL (appended).")],
    questions_per_clause: Annotated[int, typer.Option(
        "--n", "--questions-per-clause", help=help_of(_S, "questions_per_clause"))
    ] = default(_S, "questions_per_clause"),
    attempts: Annotated[int, typer.Option("--attempts", help=help_of(_S, "attempts"))
                        ] = default(_S, "attempts"),
    dedup: Annotated[str, typer.Option("--dedup", help=help_of(_S, "dedup"))
                     ] = default(_S, "dedup"),
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="Cosine similarity at or above which a question is a duplicate "
            "(default 0.85 embedding, 0.8 tfidf).",
        ),
    ] = None,
    temperature: TemperatureOption = default(_S, "temperature"),
    max_tokens: MaxTokensOption = default(_S, "max_tokens"),
    seed: SeedOpt = 0,
    language: LanguageOption = default(_S, "language"),
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
    progress: ProgressOption = True,
) -> None:
    """N de-duplicated test questions per clause (the synth stage's first step; its defaults
    are pipeline.yaml's synth: section's)."""
    flags = ProviderFlags.of(locals())

    from pluralign.constitution.document import read_clauses
    from pluralign.llm.synth import GenerationSettings, synth_questions

    s = from_options(SynthSettings, questions_per_clause=questions_per_clause,
                     attempts=attempts, dedup=dedup, temperature=temperature,
                     max_tokens=max_tokens, language=_language(language))
    clauses = read_clauses(constitution)
    with flags.open() as prov:
        _finish(
            synth_questions(
                prov,
                clauses,
                out,
                s.questions_per_clause,
                GenerationSettings(s.temperature, s.max_tokens, seed, s.attempts, s.language),
                s.attempts,
                s.dedup,
                threshold,
                progress,
            )
        )


@synth_app.command("revise")
def revise_cmd(
    constitution: ConstitutionOption,
    questions: Annotated[Path, typer.Option("--questions", help="Questions JSONL.")],
    out: Annotated[Path, typer.Option("--out", help="Preference JSONL (appended).")],
    temperature: TemperatureOption = default(_S, "temperature"),
    max_tokens: MaxTokensOption = default(_S, "max_tokens"),
    seed: SeedOpt = 0,
    attempts: StepAttemptsOption = default(_S, "attempts"),
    language: LanguageOption = default(_S, "language"),
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
    progress: ProgressOption = True,
) -> None:
    """Critique → revision per question: preference pairs (chosen = revision)."""
    flags = ProviderFlags.of(locals())

    from pluralign.constitution.document import read_clauses
    from pluralign.llm.synth import GenerationSettings, load_questions, synth_revisions

    s = from_options(SynthSettings, attempts=attempts, temperature=temperature,
                     max_tokens=max_tokens, language=_language(language))
    clauses = read_clauses(constitution)
    rows = load_questions(questions)
    with flags.open() as prov:
        _finish(
            synth_revisions(
                prov,
                clauses,
                rows,
                out,
                GenerationSettings(s.temperature, s.max_tokens, seed, s.attempts, s.language),
                progress,
            )
        )


@synth_app.command("refine")
def refine_cmd(
    constitution: ConstitutionOption,
    out: Annotated[Path, typer.Option("--out", help="Self-refinement JSONL (appended).")],
    n: Annotated[int, typer.Option("--n", min=1, help="Scenarios per clause.")] = 2,
    temperature: TemperatureOption = default(_S, "temperature"),
    max_tokens: MaxTokensOption = default(_S, "max_tokens"),
    seed: SeedOpt = 0,
    attempts: StepAttemptsOption = default(_S, "attempts"),
    language: LanguageOption = default(_S, "language"),
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
    progress: ProgressOption = True,
) -> None:
    """Self-refinement records (scenario, rejected, chosen, critique) per clause (the generation
    defaults are pipeline.yaml's synth: section's, as for questions and revise)."""
    flags = ProviderFlags.of(locals())

    from pluralign.constitution.document import read_clauses
    from pluralign.llm.synth import GenerationSettings, synth_refinements

    s = from_options(SynthSettings, attempts=attempts, temperature=temperature,
                     max_tokens=max_tokens, language=_language(language))
    clauses = read_clauses(constitution)
    with flags.open() as prov:
        _finish(
            synth_refinements(
                prov,
                clauses,
                out,
                n,
                GenerationSettings(s.temperature, s.max_tokens, seed, s.attempts, s.language),
                progress,
            )
        )


@synth_app.command("filter")
def filter_cmd(
    inputs: Annotated[list[Path], typer.Argument(help="Generated JSONL file(s) to check.")],
    out: Annotated[Path, typer.Option("--out", help="Kept records JSONL.")],
    on_unparseable: Annotated[
        str,
        typer.Option(
            "--on-unparseable", help="drop | keep records the classifier could not judge."
        ),
    ] = "drop",
    prescreen_only: Annotated[
        bool, typer.Option("--prescreen-only", help="Only the keyword pre-screen, no model.")
    ] = False,
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
    progress: ProgressOption = True,
) -> None:
    """Safety filter: classify every record; write kept, removed (with reasons) and a report."""
    flags = ProviderFlags.of(locals())

    from pluralign.io import iter_jsonl
    from pluralign.llm.safety import filter_records

    if on_unparseable not in ("drop", "keep"):
        raise InputError(f"--on-unparseable must be drop or keep, not {on_unparseable!r}")
    records = []
    for path in inputs:
        if not path.is_file():
            raise InputError("file not found", where=str(path))
        records.extend(row for _, row in iter_jsonl(path))
    if prescreen_only:
        s = filter_records(None, records, out, on_unparseable, progress)  # type: ignore[arg-type]
    else:
        with flags.open() as prov:
            s = filter_records(prov, records, out, on_unparseable, progress)  # type: ignore[arg-type]
    console.print(
        f"safety filter: kept {s.kept}, removed {s.removed} "
        f"{s.removed_by_reason or ''} {s.removed_by_category or ''}, failed "
        f"{s.failed} → {s.out}; removed: {s.removed_path}; report: {s.report_path}",
        highlight=False,
    )
    if s.usage:
        console.print(usage_line(s.usage), highlight=False)
    if s.failed:
        raise ProviderError(
            f"{s.failed} record(s) could not be classified (provider failed)",
            hint="re-run the same command to retry them",
        )


def register(app: typer.Typer) -> None:
    from pluralign.commands.llm_models import interview_cmd, judge_cmd, serve_cmd

    app.command("serve")(serve_cmd)
    app.add_typer(synth_app, name="synth")
    app.command("interview")(interview_cmd)
    app.command("judge")(judge_cmd)
