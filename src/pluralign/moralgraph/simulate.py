"""Simulated participants who articulate values and vote on upgrades from a known truth.

The bank (``data/values_bank.json``) lists hand-written values cards per context, ordered from least
to most wise under an *assumed* ground truth. Each simulated participant is given a context,
articulates one of its cards, then judges ``votes_per_participant`` stories "someone moved from
value A to value B in this context". A story points towards the wiser value with probability
``forward`` (Democratic Fine-Tuning shows hypothesised upgrades, mostly but not always the right way
round). With probability ``noise`` the participant answers uniformly at random among
``upgrade / no_upgrade / not_sure``; otherwise they answer ``upgrade`` exactly when B is wiser.
:func:`recovery` then measures how well a summarised graph recovers the truth (Kendall's tau between
the PageRank order and the true order, and whether the winning value is the wisest one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from pluralign.contract import setting
from pluralign.io import atomic_write_text, write_json_atomic
from pluralign.moralgraph.settings import MoralGraphSettings
from pluralign.moralgraph.types import (
    NO_UPGRADE,
    NOT_SURE,
    UPGRADE,
    Context,
    Edge,
    ValueId,
    ValuesCard,
)


@dataclass(frozen=True)
class ValuesSimulationSettings(MoralGraphSettings):
    """Settings of :func:`simulate`: values cards and upgrade votes (not the Polis assembly of
    :class:`pluralign.simulate.SimulationSettings`). The stage's settings
    (:class:`~pluralign.moralgraph.settings.MoralGraphSettings`: the size and the noise, their
    defaults, help and bounds) and what only the simulation takes, checked the same way (an
    :class:`~pluralign.errors.InputError` naming the field)."""

    section = ""
    label = "values simulation settings"

    forward: float = setting(
        0.75, "Probability a story points from the less wise value to the wiser one.", ge=0, le=1)
    seed: int = setting(0, "Random seed: same seed, same output.")


@dataclass(frozen=True)
class ValuesSimulation:
    """Articulated values and upgrade votes of simulated participants, with the assumed truth."""

    config: ValuesSimulationSettings
    contexts: tuple[Context, ...]
    cards: tuple[ValuesCard, ...]
    truth: dict[str, tuple[ValueId, ...]]
    """Per context, card ids from least to most wise."""
    articulations: tuple[tuple[str, str, ValueId], ...]
    """(participant, context, card id) for each participant's articulated value."""
    edges: tuple[Edge, ...]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"user": e.participant, "from": e.from_id, "to": e.to_id, "context": e.context,
             "relationship": e.relationship, "story": e.story} for e in self.edges
        ])


def load_bank(path: str | Path | None = None) -> tuple[tuple[Context, ...], tuple[ValuesCard, ...],
                                                      dict[str, tuple[ValueId, ...]]]:
    """The bank of values cards: contexts, cards (ids 1…n) and the assumed order per context."""
    if path is None:
        text = resources.files("pluralign.moralgraph").joinpath("data/values_bank.json").read_text(
            encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text)
    contexts, cards, truth = [], [], {}
    next_id = 1
    for ctx in data["contexts"]:
        contexts.append(Context(id=ctx["id"], description=ctx.get("description", "")))
        ids = []
        for card in ctx["cards"]:
            cards.append(ValuesCard(id=next_id, title=card["title"],
                                    description=card["description"],
                                    policies=tuple(card["policies"]), context=ctx["id"]))
            ids.append(next_id)
            next_id += 1
        truth[ctx["id"]] = tuple(ids)
    return tuple(contexts), tuple(cards), truth


def _story(a: ValuesCard, b: ValuesCard, context: Context) -> str:
    return (f"{context.description}, someone used to focus on “{a.title}” ({a.description.lower()}"
            f") and came to focus on “{b.title}” ({b.description.lower()}) instead.")


def simulate(
    config: ValuesSimulationSettings | None = None, bank: str | Path | None = None
) -> ValuesSimulation:
    """Run the simulation (same config and bank, same output)."""
    config = config or ValuesSimulationSettings()
    rng = np.random.default_rng(config.seed)
    contexts, cards, truth = load_bank(bank)
    by_id = {c.id: c for c in cards}
    ctx_by_id = {c.id: c for c in contexts}
    ctx_ids = list(truth)
    articulations, edges = [], []
    answers = (UPGRADE, NO_UPGRADE, NOT_SURE)
    for p in range(config.participants):
        participant = f"p{p + 1}"
        ctx = ctx_ids[int(rng.integers(len(ctx_ids)))]
        order = truth[ctx]
        articulations.append((participant, ctx, order[int(rng.integers(len(order)))]))
        for _ in range(config.votes_per_participant):
            i, j = sorted(rng.choice(len(order), size=2, replace=False).tolist())
            lo, hi = order[i], order[j]
            a, b = (lo, hi) if rng.random() < config.forward else (hi, lo)
            if rng.random() < config.noise:
                answer = answers[int(rng.integers(3))]
            else:
                answer = UPGRADE if b == hi else NO_UPGRADE
            edges.append(Edge(participant=participant, from_id=a, to_id=b, context=ctx,
                              relationship=answer,
                              story=_story(by_id[a], by_id[b], ctx_by_id[ctx])))
    return ValuesSimulation(config=config, contexts=contexts, cards=cards, truth=truth,
                      articulations=tuple(articulations), edges=tuple(edges))


def write_values_simulation(
    sim: ValuesSimulation, out: str | Path, cards_out: str | Path | None = None
) -> None:
    """Write the edge rows (.csv or .jsonl) and optionally the cards (JSON array), atomically."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = sim.frame()
    if out.suffix.lower() == ".csv":
        text = frame.to_csv(index=False)
    else:
        text = frame.to_json(orient="records", lines=True, force_ascii=False)
    atomic_write_text(out, text)
    if cards_out:
        data = [{"id": c.id, "title": c.title, "description": c.description,
                 "policies": list(c.policies), "context": c.context} for c in sim.cards]
        write_json_atomic(cards_out, data, indent=1)


@dataclass(frozen=True)
class Recovery:
    context: str
    kendall_tau: float
    winner: ValueId | None
    true_winner: ValueId
    ranked: int
    """How many of the context's values have a PageRank (are on an included edge)."""

    @property
    def winner_correct(self) -> bool:
        return self.winner == self.true_winner


def recovery(graph, truth: dict[str, tuple[ValueId, ...]]) -> dict[str, Recovery]:
    """Kendall's tau between each context's PageRank order and the true order (values without a
    PageRank rank last, tied), and whether the winner is the wisest value."""
    from scipy.stats import kendalltau

    out = {}
    for ctx, order in truth.items():
        ranks = graph.context_page_rank.get(ctx, {})
        scores = [ranks.get(v, -1.0) for v in order]
        tau = float(kendalltau(np.arange(len(order)), scores).statistic)
        out[ctx] = Recovery(context=ctx, kendall_tau=tau, winner=graph.winners.get(ctx),
                            true_winner=order[-1], ranked=sum(v in ranks for v in order))
    return out
