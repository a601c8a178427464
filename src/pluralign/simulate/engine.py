"""The simulation itself: pool → latent groups → statements → vote events → Polis export + truth.

Steps (each with its own child random generator, so changing one step's settings leaves the
others' draws alone):

1. *Pool*: ``participants`` volunteers drawn with self-selection bias
   (:meth:`Population.draw`), each with an arrival time (more early than late, Beta(0.8, 2.5)
   over the conversation); participant numbers follow arrival, 1..N; participant 0 is the
   moderator, who writes the seed statements and never votes.
2. *Latent groups*: group ~ P(group | demographics); membership = c·onehot(group) + (1-c)·mix,
   c ~ Beta(conviction), mix ~ Dirichlet(1); a per-person pass factor ~ LogNormal(0, 0.5).
3. *Statements*: seed statements stratified over topics; participant-authored ones appear during
   the conversation, written by engaged participants who pick statements they agree with
   (a ``junk_share`` are off-topic and rejected; ones written in the last 8 % of the time are
   still unmoderated). Authors vote agree on their own statement, as in Polis.
4. *Votes*: each participant votes on a share ~ Beta(mean ``vote_rate``) of the accepted
   statements that exist when they arrive — seeds first, then participants' statements, so
   early statements collect more votes — and some return later for statements added since;
   a ``change_rate`` share of votes is changed later (history).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pluralign import __version__
from pluralign.errors import InputError
from pluralign.formats.polis import PolisClock, make_polis_export
from pluralign.formats.statement_bank import (
    CONSENSUS,
    CONSENSUS_AGAINST,
    CONSENSUS_RULE,
    DIVISIVE,
    DIVISIVE_RULE,
    StatementBank,
    load_bank,
)
from pluralign.simulate.model import VOTE_CHOICES, SimulatedAssembly, SimulationSettings
from pluralign.simulate.population import Population

DAY_MS = 86_400_000
MODERATOR = 0


def _draw_categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category index per row of ``probs`` (rows sum to 1)."""
    u = rng.random(len(probs))
    return (u[:, None] > probs.cumsum(axis=1)).sum(axis=1).clip(0, probs.shape[1] - 1)


def _pool(
    config: SimulationSettings,
    population: Population,
    bank: StatementBank,
    rng: np.random.Generator,
    rng_groups: np.random.Generator,
):
    n = config.participants
    start, span = config.start_ms, int(config.days * DAY_MS)
    demo = population.draw(n, rng)
    arrival = start + (rng.beta(0.8, 2.5, n) * span * 0.95).astype(np.int64)
    order = np.argsort(arrival, kind="stable")
    demo = demo.iloc[order].reset_index(drop=True)
    arrival = arrival[order]
    width = max(4, len(str(n)))
    ids = [f"P{i:0{width}d}" for i in range(1, n + 1)]
    pool = pd.concat([pd.DataFrame({"id": ids}), demo], axis=1)

    g = len(bank.groups)
    group = _draw_categorical(rng_groups, population.group_probabilities(demo))
    conviction = rng_groups.beta(*config.conviction, n)
    mix = rng_groups.dirichlet(np.ones(g), n)
    membership = conviction[:, None] * np.eye(g)[group] + (1 - conviction[:, None]) * mix
    pass_factor = rng_groups.lognormal(0.0, 0.5, n)
    k = config.engagement_concentration
    engagement = rng_groups.beta(k * config.vote_rate, k * (1 - config.vote_rate) + 1e-9, n)
    engagement = engagement.clip(0.02, 1.0)
    people = pd.DataFrame(
        {
            "id": ids,
            "participant": np.arange(1, n + 1),
            "group": np.array([grp.id for grp in bank.groups], dtype=object)[group],
            "conviction": conviction,
            "pass_factor": pass_factor,
            "arrival": arrival,
            "engagement": engagement,
        }
    )
    return pool, people, membership, engagement


def _seed_choice(bank: StatementBank, n_seed: int, rng: np.random.Generator) -> list[str]:
    """Seed statements spread over topics: round-robin over shuffled topics."""
    by_topic: dict[str, list[str]] = {}
    for s in bank.opinions:
        by_topic.setdefault(s.topic, []).append(s.slug)
    topics = sorted(by_topic)
    rng.shuffle(topics)
    queues = {t: list(rng.permutation(by_topic[t])) for t in topics}
    chosen: list[str] = []
    while len(chosen) < n_seed:
        for t in topics:
            if queues[t] and len(chosen) < n_seed:
                chosen.append(str(queues[t].pop()))
    return chosen


def _statements(
    config: SimulationSettings,
    bank: StatementBank,
    people: pd.DataFrame,
    membership: np.ndarray,
    engagement: np.ndarray,
    rng: np.random.Generator,
):
    m = config.statements
    n_opinions = len(bank.opinions)
    n_seed = min(m, n_opinions, max(1, round(m * config.seed_share)))
    n_auth = m - n_seed
    start, span = config.start_ms, int(config.days * DAY_MS)
    rows = []
    written = start - 3_600_000
    for slug in _seed_choice(bank, n_seed, rng):
        written += int(rng.integers(15_000, 60_000))
        rows.append({"slug": slug, "author-id": MODERATOR, "is_seed": True, "timestamp": written})
    used = {r["slug"] for r in rows}
    # junk fills in when the conversation needs more statements than the bank has opinions
    n_junk = min(len(bank.junk), max(round(n_auth * config.junk_share), m - n_opinions))
    kinds = np.array([True] * n_junk + [False] * (n_auth - n_junk))
    rng.shuffle(kinds)
    weights = engagement**2 / (engagement**2).sum()
    authors = rng.choice(len(people), n_auth, p=weights) if n_auth else np.array([], int)
    times = people["arrival"].to_numpy()[authors] + rng.integers(60_000, 900_000, n_auth)
    order = np.argsort(times, kind="stable")
    junk = list(rng.permutation([s.slug for s in bank.junk]))
    opinions = bank.opinions
    for j in order:
        author = int(authors[j])
        if kinds[j] and junk:
            slug = str(junk.pop())
        else:
            free = [s for s in opinions if s.slug not in used]
            p_agree = np.array([membership[author] @ s.profile[:, 0] for s in free])
            w = p_agree**3
            slug = free[int(rng.choice(len(free), p=w / w.sum()))].slug
        used.add(slug)
        rows.append(
            {
                "slug": slug,
                "author-id": int(people["participant"].iloc[author]),
                "is_seed": False,
                "timestamp": int(times[j]),
            }
        )
    frame = pd.DataFrame(rows)
    frame.insert(0, "comment-id", np.arange(len(frame)))
    cutoff = start + int(span * 0.92)
    moderated = []
    for slug, ts in zip(frame["slug"], frame["timestamp"], strict=True):
        statement = bank.by_slug(slug)
        moderated.append(-1 if statement.kind == "junk" else (0 if ts >= cutoff else 1))
    frame["moderated"] = moderated
    frame["topic"] = [bank.by_slug(s).topic for s in frame["slug"]]
    frame["category"] = [bank.by_slug(s).category for s in frame["slug"]]
    frame["text"] = [bank.by_slug(s).text for s in frame["slug"]]
    return frame[
        [
            "comment-id",
            "slug",
            "topic",
            "category",
            "text",
            "author-id",
            "moderated",
            "is_seed",
            "timestamp",
        ]
    ]


def _votes(
    config: SimulationSettings,
    people: pd.DataFrame,
    statements: pd.DataFrame,
    probs: np.ndarray,
    engagement: np.ndarray,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Vote events, and how many statements each participant was offered (all sessions)."""
    end = config.start_ms + int(config.days * DAY_MS)
    created = statements["timestamp"].to_numpy()
    shown = statements["moderated"].to_numpy() == 1
    seed = statements["is_seed"].to_numpy()
    author = statements["author-id"].to_numpy()
    events: list[tuple[int, int, int, int]] = []  # (timestamp, comment, voter, vote)
    for cid, (a, ts) in enumerate(zip(author, created, strict=True)):
        if a != MODERATOR:  # an author agrees with their own statement when writing it
            events.append((int(ts), cid, int(a), 1))
    arrival = people["arrival"].to_numpy()
    offered = np.zeros(len(people), dtype=np.int64)
    for i in range(len(people)):
        number = i + 1
        sessions = [(int(arrival[i]), -np.inf)]
        if rng.random() < config.return_rate:
            back = int(arrival[i] + rng.integers(DAY_MS // 2, 4 * DAY_MS))
            if back < end:
                sessions.append((back, arrival[i]))
        for t0, since in sessions:
            visible = np.flatnonzero(
                shown & (created < t0) & (created >= since) & (author != number)
            )
            if not len(visible):
                continue
            offered[i] += len(visible)
            visible = visible[np.lexsort((rng.random(len(visible)), ~seed[visible]))]
            k = max(1, int(round(engagement[i] * len(visible))))
            chosen = visible[:k]
            times = t0 + np.cumsum(
                rng.integers(3_000, 8_000, k) + rng.exponential(12_000, k).astype(np.int64)
            )
            p = probs[i, chosen]
            values = VOTE_CHOICES[
                (rng.random(k)[:, None] > p.cumsum(axis=1)).sum(axis=1).clip(0, 2)
            ]
            for j, (cid, t, v) in enumerate(zip(chosen, times, values, strict=True)):
                events.append((int(t), int(cid), number, int(v)))
                if rng.random() < config.change_rate:
                    others = [c for c in range(3) if VOTE_CHOICES[c] != v]
                    w = p[j][others] + 1e-6
                    new = VOTE_CHOICES[others[int(rng.choice(2, p=w / w.sum()))]]
                    later = min(end - 1, int(t + 60_000 + rng.exponential(2 * DAY_MS)))
                    events.append((later, int(cid), number, int(new)))
    frame = pd.DataFrame(events, columns=["timestamp", "comment-id", "voter-id", "vote"])
    frame = frame.sort_values(["comment-id", "voter-id", "timestamp"], kind="stable")
    return frame.reset_index(drop=True), offered


def _truth(config, population, bank, people, membership, statements) -> dict:
    groups = [g.id for g in bank.groups]
    pop_shares = population.group_shares()
    pool_counts = people["group"].value_counts()
    listed = []
    for row in statements.itertuples(index=False):
        profile = bank.by_slug(row.slug).profile
        listed.append(
            {
                "comment-id": int(row[0]),
                "slug": row.slug,
                "topic": row.topic,
                "category": row.category,
                "is_seed": bool(row.is_seed),
                "stance": {
                    g: {
                        "agree": round(float(p[0]), 4),
                        "disagree": round(float(p[1]), 4),
                        "pass": round(float(p[2]), 4),
                    }
                    for g, p in zip(groups, profile, strict=True)
                },
            }
        )

    def pick(category: str) -> list[int]:
        keep = (statements["category"] == category) & (statements["moderated"] == 1)
        return [int(c) for c in statements.loc[keep, "comment-id"]]

    return {
        "provenance": {
            "generator": "pluralign.simulate",
            "pluralign": __version__,
            "seed": config.seed,
            "config": config.to_json(),
            "bank_sha256": bank.sha256,
        },
        "groups": [
            {
                "id": g.id,
                "name": g.name,
                "description": g.description,
                "population_share": round(float(s), 6),
                "pool_count": int(pool_counts.get(g.id, 0)),
            }
            for g, s in zip(bank.groups, pop_shares, strict=True)
        ],
        "rules": {
            "consensus": CONSENSUS_RULE,
            "divisive": DIVISIVE_RULE,
            "note": "applied to the statement's stance profile; only accepted statements "
            "(moderated = 1) are listed under consensus/divisive",
        },
        "consensus": pick(CONSENSUS),
        "consensus_against": pick(CONSENSUS_AGAINST),
        "divisive": pick(DIVISIVE),
        "statements": listed,
        "moderator": MODERATOR,
        "participants": [
            {
                "participant": int(n),
                "id": pid,
                "group": grp,
                "membership": [round(float(x), 4) for x in mem],
            }
            for n, pid, grp, mem in zip(
                people["participant"], people["id"], people["group"], membership, strict=True
            )
        ],
    }


def simulate_assembly(config: SimulationSettings | None = None) -> SimulatedAssembly:
    """Simulate a complete assembly (see the module docstring for the steps). Deterministic:
    the same config (seed included) gives the same result on the same library versions."""
    config = config or SimulationSettings()
    bank = load_bank(config.bank_path)
    room = len(bank.opinions) + len(bank.junk)
    if config.statements > room:
        raise InputError(
            f"statements = {config.statements}, but the bank holds only {room}",
            where="simulation settings",
            hint=f"use --statements {room} or fewer",
        )
    population = Population()
    if len(population.group_base) != len(bank.groups):
        raise InputError(
            "the population's group model and the bank disagree on the number of latent groups",
            where="simulation settings",
        )
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(4)]
    pool, people, membership, engagement = _pool(config, population, bank, streams[0], streams[1])
    statements = _statements(config, bank, people, membership, engagement, streams[2])
    draft = SimulatedAssembly(
        config, population, bank, pool, people, membership, statements, pd.DataFrame(), None, {}
    )
    probs = draft.vote_probabilities()
    votes, offered = _votes(config, people, statements, probs, engagement, streams[3])
    people = people.assign(offered=offered)
    comments = pd.DataFrame(
        {
            "comment-id": statements["comment-id"],
            "author-id": statements["author-id"],
            "timestamp": statements["timestamp"],
            "moderated": statements["moderated"],
            "comment-body": statements["text"],
        }
    )
    roster = pd.DataFrame(
        {
            "participant": np.arange(len(people) + 1),
            "group-id": pd.array([None] * (len(people) + 1), dtype="Int64"),
        }
    )
    polis = make_polis_export(
        comments,
        votes,
        roster,
        clock=PolisClock("UTC", 0),
        summary={
            "topic": config.topic,
            "url": "",
            "views": len(people) + 1,
            "conversation-description": config.description,
        },
    )
    truth = _truth(config, population, bank, people, membership, statements)
    return SimulatedAssembly(
        config, population, bank, pool, people, membership, statements, votes, polis, truth
    )
