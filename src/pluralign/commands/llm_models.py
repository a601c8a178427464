"""The commands that run a model directly, beside synthesis (:mod:`.llm`, which mounts them):
``pluralign serve`` (a model as an OpenAI-compatible server), ``pluralign interview`` (a model
interviewed into a constitution, :mod:`pluralign.constitution.interview`) and ``pluralign judge``
(two models' answers compared by a judge model)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from pluralign.bootstrap import BootstrapSettings
from pluralign.clikit import console
from pluralign.contract import default, from_options, help_of
from pluralign.errors import InputError
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


def serve_cmd(
    target: Annotated[
        str | None,
        typer.Argument(
            help="What to serve: a transformers checkpoint folder, a LoRA adapter folder, a run "
            "folder (its trained model), or 'smollm2' (default: the embedded model).",
            show_default=False,
        ),
    ] = None,
    adapter: Annotated[Path | None, typer.Option("--adapter", help="LoRA adapter folder.")] = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    model_id: Annotated[
        str | None,
        typer.Option("--model-id", help="Model name clients send (default: the folder name)."),
    ] = None,
    max_tokens_limit: Annotated[
        int, typer.Option("--max-tokens-limit", help="Largest max_tokens a request may ask for.")
    ] = 2048,
    max_batch: Annotated[
        int,
        typer.Option("--max-batch", min=1, help="Most concurrent requests decoded together."),
    ] = 16,
    device: Annotated[str, typer.Option("--device", help="torch device.")] = "cpu",
) -> None:
    """Serve a model as an OpenAI-compatible API at /v1 (default: the embedded SmolLM2)."""
    from pluralign.errors import require
    from pluralign.llm.local import LocalModel
    from pluralign.llm.serve import create_app, resolve_target

    uvicorn = require("uvicorn", "llm")
    checkpoint, found_adapter = resolve_target(target)
    if adapter is not None and found_adapter is not None:
        raise InputError(
            "--adapter given twice: the target is already an adapter or a run with one",
            where=str(target),
        )
    model = LocalModel(checkpoint, adapter or found_adapter, device, max_batch=max_batch)
    name = model_id or model.name
    app = create_app(model, name, max_tokens_limit)
    console.print(f"serving {name} at http://{host}:{port}/v1 (Ctrl-C stops)", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def interview_cmd(
    out: Annotated[Path, typer.Option("--out", help="Constitution YAML to write.")],
    questions: Annotated[
        Path | None,
        typer.Option(
            "--questions", help="Interview questions, one per line (default: built-in set)."
        ),
    ] = None,
    decisions: Annotated[
        Path | None,
        typer.Option(
            "--decisions", help="YAML list of accept/reject/{edit: text} instead of the terminal."
        ),
    ] = None,
    title: Annotated[
        str, typer.Option("--title", help="Constitution title.")
    ] = "Constitution co-written with a model interview",
    max_tokens: Annotated[
        int, typer.Option("--max-tokens", help="Most tokens per interview answer.")
    ] = 256,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the requests (and the bootstrap).")
    ] = 0,
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
    """Interview a model about how it should behave; review its clauses; write a constitution."""
    flags = ProviderFlags.of(locals())

    from pluralign.constitution import interview as iv
    from pluralign.io import read_text
    from pluralign.llm.prompts import INTERVIEW_QUESTIONS

    qs = list(INTERVIEW_QUESTIONS)
    if questions is not None:
        try:
            qs = [
                ln.strip()
                for ln in read_text(questions).splitlines()
                if ln.strip()
            ]
        except OSError as exc:
            raise InputError(
                f"cannot read questions: {exc.strerror}", where=str(questions)
            ) from exc
        if not qs:
            raise InputError("no questions (one per line)", where=str(questions))
    decided = iv.read_decisions(decisions) if decisions is not None else None
    with flags.open() as prov:
        with console.status("interviewing the model"):
            transcript, candidates = iv.interview(prov, qs, max_tokens, seed)
        if decided is not None:
            decide = iv.decisions_decider(decided, str(decisions))
        else:
            decide = iv.terminal_decider(console, _stdin_reader)
        reviewed = iv.review(candidates, decide)
        res = iv.write_interview_constitution(
            out, prov, transcript, candidates, reviewed, title, seed
        )
    console.print(
        f"interview: accepted {res.accepted}, edited {res.edited}, rejected "
        f"{res.rejected}, empty drafts {res.empty_drafts} → {res.path}",
        highlight=False,
    )
    console.print(usage_line(res.usage), highlight=False)


def _stdin_reader(prompt: str) -> str:
    console.print(prompt, end="")
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\n")


def judge_cmd(
    prompts: Annotated[
        Path,
        typer.Option("--prompts", help="JSONL: prompt (or question), optional id and clause_id."),
    ],
    constitution: Annotated[Path, typer.Option("--constitution", "-c", help="Constitution YAML.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for judge.json and judge_items.jsonl.")
    ] = Path("judge"),
    a_base_url: Annotated[str | None, typer.Option("--a-base-url", help="Model A server.")] = None,
    a_model: Annotated[str | None, typer.Option("--a-model", help="Model A name.")] = None,
    a_checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--a-checkpoint", help="Model A as a local checkpoint folder (instead of --a-base-url)."
        ),
    ] = None,
    a_adapter: Annotated[
        Path | None,
        typer.Option("--a-adapter", help="LoRA adapter folder for model A's checkpoint."),
    ] = None,
    b_base_url: Annotated[str | None, typer.Option("--b-base-url", help="Model B server.")] = None,
    b_model: Annotated[str | None, typer.Option("--b-model", help="Model B name.")] = None,
    b_checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--b-checkpoint", help="Model B as a local checkpoint folder (instead of --b-base-url)."
        ),
    ] = None,
    b_adapter: Annotated[
        Path | None,
        typer.Option("--b-adapter", help="LoRA adapter folder for model B's checkpoint."),
    ] = None,
    retries: Annotated[
        int,
        typer.Option(
            "--retries",
            min=0,
            help="Fresh attempts after an unparseable verdict (each with a repair retry).",
        ),
    ] = 1,
    answer_tokens: Annotated[
        int, typer.Option("--answer-tokens", help="Most tokens per model answer.")
    ] = 256,
    judge_tokens: Annotated[
        int, typer.Option("--judge-tokens", help="Most tokens per judge verdict.")
    ] = 256,
    n_boot: Annotated[
        int, typer.Option("--n-boot", help=help_of(BootstrapSettings, "n_boot"))
    ] = default(BootstrapSettings, "n_boot"),
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the requests (and the bootstrap).")
    ] = 0,
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
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
) -> None:
    """Judge model B against model A on a prompt set, per clause, in both orders.

    Model A/B flags (--a-*/--b-*) pick each model; the judge is the usual provider flags. The
    API key (--api-key-env), cache, timeout and retries are shared by the three."""
    flags = ProviderFlags.of(locals())
    n_boot = from_options(BootstrapSettings, n_boot=n_boot).n_boot

    from pluralign.constitution.document import read_clauses
    from pluralign.llm.judge import load_prompts, run_judge

    clauses = read_clauses(constitution)
    rows = load_prompts(prompts)
    with (
        flags.other_model(a_base_url, a_model, a_checkpoint, a_adapter).open("--a-") as prov_a,
        flags.other_model(b_base_url, b_model, b_checkpoint, b_adapter).open("--b-") as prov_b,
        flags.open() as judge,
    ):
        s = run_judge(
            prov_a,
            prov_b,
            judge,
            rows,
            clauses,
            out,
            retries,
            answer_tokens,
            judge_tokens,
            n_boot,
            seed,
            progress,
        )
    o = s.overall
    rate = (
        "n/a"
        if o["win_rate_b"] is None
        else (f"{o['win_rate_b']:.3f} [{o['ci_low']:.3f}, {o['ci_high']:.3f}]")
    )
    console.print(
        f"judge: B wins {o['wins_b']}, A wins {o['wins_a']}, ties {o['ties']}, "
        f"failures {o['failures']}; win rate of B {rate} → {s.path}",
        highlight=False,
    )
    console.print(usage_line(judge.usage.to_json()), highlight=False)
