"""``pluralign eval-public``: set up, generate, summarise and export a public evaluation.

The same operations as the admin page ``/admin/a/<slug>/public-eval`` (docs/public_eval.md),
for scripts and for pipelines: ``setup`` (models, clauses, prompts), ``generate`` (answers,
cached), ``state`` (open/close), ``results`` (``public_eval.json``, with the agreement with
the automatic judge when its ``judge_items.jsonl`` is given) and ``export`` (preference pairs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import DbOption, console
from pluralign.contract import default, help_of
from pluralign.evaluate.settings import EvaluateSettings

public_app = typer.Typer(
    help="Public evaluation: participants compare two models' answers against the clauses.",
    no_args_is_help=True,
)
SlugOption = Annotated[str, typer.Option("--slug", help="The assembly's slug.")]


def _store(db: str | None):
    from pluralign.store import open_store

    return open_store(db)


@public_app.command("setup")
def setup_cmd(
    slug: SlugOption,
    a_url: Annotated[str, typer.Option("--a-url", help="Model A's OpenAI-compatible base URL.")],
    b_url: Annotated[str, typer.Option("--b-url", help="Model B's OpenAI-compatible base URL.")],
    constitution: Annotated[
        Path | None,
        typer.Option(
            "--constitution",
            help="constitution.yaml with the clauses (default: the assembly's "
            "drafted constitution).",
        ),
    ] = None,
    prompts: Annotated[
        Path | None,
        typer.Option(
            "--prompts",
            help="Prompts as JSONL or CSV (prompt, optional id, clause_id); default: "
            "one prompt per clause.",
        ),
    ] = None,
    a_model: Annotated[str, typer.Option("--a-model", help="Model A's name.")] = "",
    b_model: Annotated[str, typer.Option("--b-model", help="Model B's name.")] = "",
    a_key_env: Annotated[
        str, typer.Option("--a-api-key-env", help="Env var holding A's API key.")
    ] = "",
    b_key_env: Annotated[
        str, typer.Option("--b-api-key-env", help="Env var holding B's API key.")
    ] = "",
    answer_tokens: Annotated[int, typer.Option(help="Answer length in tokens.")] = 256,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of answers and presentation order.")
    ] = 0,
    db: DbOption = None,
) -> None:
    """Attach two models, the clauses and the prompts to an assembly."""
    from pluralign.errors import InputError
    from pluralign.publiceval import service as svc
    from pluralign.store.queries import get_assembly

    store = _store(db)
    a = svc.model_spec(a_url, a_model, a_key_env)
    b = svc.model_spec(b_url, b_model, b_key_env)
    with store.session() as s:
        assembly = get_assembly(s, slug)
        min_votes = svc.min_votes_of(assembly)
    if constitution is not None:
        from pluralign.io import read_text

        text = read_text(constitution, what="constitution")
        clauses, source = svc.clauses_from_yaml(text, str(constitution)), str(constitution)
    else:
        clauses, source = svc.clauses_from_assembly(store, slug, min_votes), "assembly"
    if prompts is not None:
        try:
            rows = svc.parse_prompts(prompts.read_bytes(), str(prompts))
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", where=str(prompts)) from exc
        prompt_source = str(prompts)
    else:
        rows, prompt_source = svc.prompts_from_clauses(clauses), "clauses"
    with store.session() as s:  # one transaction: bad input leaves nothing half-set
        ev = svc.get_eval(s, get_assembly(s, slug), create=True)
        svc.attach_models(s, ev, a, b, answer_tokens=answer_tokens, seed=seed)
        n_c = svc.set_clauses(s, ev, clauses, source)
        n_p = svc.set_prompts(s, ev, rows, prompt_source)
    console.print(
        f"public evaluation of '{slug}': {n_c} clauses, {n_p} prompts; next: "
        f"pluralign eval-public generate --slug {slug}"
    )


@public_app.command("generate")
def generate_cmd(
    slug: SlugOption,
    cache: Annotated[
        Path | None,
        typer.Option(
            "--cache",
            help="LLM request cache folder (share it with `pluralign judge` so "
            "both see the same answers).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Ask both models for the prompts without answers and store the answers."""
    from pluralign.publiceval import service as svc

    with console.status("generating answers"):
        res = svc.generate_answers(_store(db), slug, cache)
    console.print(
        f"{res['generated']} of {res['requested']} prompts answered by both models"
        + (f"; {res['failed']} failed (run again to retry)" if res["failed"] else "")
    )
    if res["failed"]:
        raise typer.Exit(1)


@public_app.command("state")
def state_cmd(
    slug: SlugOption,
    state: Annotated[str, typer.Argument(help="open, closed or draft")],
    db: DbOption = None,
) -> None:
    """Open the evaluation to participants, or close it."""
    from pluralign.errors import NotFoundError
    from pluralign.publiceval import service as svc
    from pluralign.store.queries import get_assembly

    with _store(db).session() as s:
        ev = svc.get_eval(s, get_assembly(s, slug))
        if ev is None:
            raise NotFoundError(
                f"assembly '{slug}' has no public evaluation",
                hint="run `pluralign eval-public setup` first",
            )
        svc.set_state(ev, state, ready=bool(svc.items(s, ev)))
    console.print(f"public evaluation of '{slug}' is {state}")


@public_app.command("results")
def results_cmd(
    slug: SlugOption,
    out: Annotated[
        Path, typer.Option("--out", help="JSON to write, e.g. RUN/evaluate/public_eval.json.")
    ],
    judge: Annotated[
        Path | None,
        typer.Option(
            "--judge",
            help="judge_items.jsonl of `pluralign judge` (same prompts, A and B) "
            "for the agreement between people and judge.",
        ),
    ] = None,
    n_boot: Annotated[int, typer.Option(
        help=help_of(EvaluateSettings, "n_boot"), min=1)] = default(EvaluateSettings, "n_boot"),
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    db: DbOption = None,
) -> None:
    """Write the results per clause and per opinion group (public_eval.json)."""
    from pluralign.publiceval import results as pr

    items = pr.read_judge_items(judge) if judge else None
    doc = pr.results(_store(db), slug, judge_items=items, n_boot=n_boot, seed=seed)
    pr.write_results(doc, out)
    o = doc["overall"]
    rate = "n/a" if o["win_rate_b"] is None else f"{o['win_rate_b']:.3f}"
    console.print(
        f"{doc['n_ratings']} ratings by {doc['n_participants']} participants; "
        f"win rate of B {rate} -> {out}"
    )
    if doc["agreement"]:
        ag = doc["agreement"]
        console.print(
            f"agreement with the judge on {ag['n']} prompts: {ag['agree']}, "
            f"Cohen's kappa {ag['kappa']}"
        )


@public_app.command("export")
def export_cmd(
    slug: SlugOption,
    out: Annotated[Path, typer.Option("--out", help="Preference-pair JSONL to write.")],
    db: DbOption = None,
) -> None:
    """Export the ratings as preference pairs (source "public-eval") for the next round."""
    from pluralign.data.preferences import write_jsonl
    from pluralign.publiceval import results as pr

    pairs, prov = pr.preference_pairs(_store(db), slug)
    write_jsonl(out, pairs, prov)
    console.print(f"{len(pairs)} preference pairs -> {out} (+ provenance sidecar)")


def register(app: typer.Typer) -> None:
    app.add_typer(public_app, name="eval-public")
