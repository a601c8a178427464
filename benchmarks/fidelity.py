"""Benchmark: how faithfully the consensus rule selects statements, against known truth.

    PYTHONPATH=src python benchmarks/fidelity.py                      # 60, 240, 1000; seeds 0-9
    PYTHONPATH=src python benchmarks/fidelity.py --sizes 240 --seeds 3 --statements 120
    PYTHONPATH=src python benchmarks/fidelity.py --source planted     # the independent check
    PYTHONPATH=src python benchmarks/fidelity.py --point              # the rule before (0.6)
    PYTHONPATH=src python benchmarks/fidelity.py --sizes 240 --bayes model   # the Bayes bound

Two sources of conversations with a known answer:

* ``simulator`` (:mod:`pluralign.simulate`): 120 statements from the hand-written bank, four
  latent opinion groups whose members' votes mix the groups' stance profiles; truth is
  ``truth.json``'s ``consensus`` (every latent group P(agree) ≥ 0.65 and P(disagree) ≤ 0.15).
* ``planted`` (:func:`planted`, written here and independent of the simulator): four groups of
  35/30/20/15 % whose members vote with their group's probabilities (plus a personal shift);
  each statement's per-group agree and disagree probabilities are drawn at random as
  consensus, near-consensus that one group (more often a small one) rejects, divisive or
  anything; each statement is shown to a random share of people, and people differ in how much
  they vote. Truth: the same definition on the planted probabilities.

Each conversation is aggregated (seed 0) and the statements that are cross-group consensus
under :class:`~pluralign.aggregate.consensus.ConsensusRule` (its defaults unless options say
otherwise) are compared with the truth: precision, recall, and the opinion groups found. The
table prints each seed and the mean per size. Issue 21's targets: precision ≥ 0.9 and recall
≥ 0.8 at 240 and 1,000 participants, recall ≥ 0.5 at 60 without losing precision. The rule's
parameters were chosen on simulator seeds 0–4 and planted seeds 0–1; seeds 5–9 / 2–4 were held
back (docs/sensemaking.md §6).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

PLANTED_SHARES = (0.35, 0.30, 0.20, 0.15)


def planted(participants: int, statements: int, seed: int):
    """A planted conversation: (vote table, truth consensus statement ids). See the module
    docstring; the generator shares nothing with :mod:`pluralign.simulate`."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(10_000 + seed)
    shares = np.array(PLANTED_SHARES)
    n_groups = len(shares)
    labels = rng.choice(n_groups, size=participants, p=shares)
    kinds = rng.choice(4, size=statements, p=[0.3, 0.3, 0.2, 0.2])
    agree = np.zeros((statements, n_groups))
    disagree = np.zeros((statements, n_groups))
    for j, kind in enumerate(kinds):
        if kind <= 1:  # consensus, and near-consensus with one group rejecting
            a = rng.uniform(0.68, 0.95, n_groups)
            d = rng.uniform(0.0, 0.12, n_groups) * (1 - a) / 0.3
            if kind == 1:
                g = rng.choice(n_groups, p=shares[::-1] / shares.sum())
                a[g] = rng.uniform(0.25, 0.6)
                d[g] = rng.uniform(0.18, 0.9) * (1 - a[g])
        elif kind == 2:  # divisive
            side = rng.random(n_groups) < 0.5
            if side.all() or not side.any():
                side[rng.integers(n_groups)] ^= True
            a = np.where(side, rng.uniform(0.6, 0.9, n_groups), rng.uniform(0.05, 0.3, n_groups))
            d = (1 - a) * rng.uniform(0.5, 0.9, n_groups)
        else:
            a = rng.uniform(0.1, 0.9, n_groups)
            d = (1 - a) * rng.uniform(0.1, 0.9, n_groups)
        agree[j], disagree[j] = a, np.minimum(d, 1 - a)
    truth = [j for j in range(statements)
             if agree[j].min() >= 0.65 and disagree[j].max() <= 0.15]
    shown = rng.beta(2, 2, statements) * 0.9 + 0.05
    activity = rng.beta(2, 3, participants) * 1.5 + 0.1
    rows = []
    for i in range(participants):
        g, shift = labels[i], rng.normal(0, 0.05)
        for j in range(statements):
            if rng.random() < min(1.0, shown[j] * activity[i]):
                a = float(np.clip(agree[j, g] + shift, 0, 1))
                d = min(disagree[j, g], 1 - a)
                r = rng.random()
                rows.append((i, j, 1 if r < a else (-1 if r < a + d else 0)))
    return pd.DataFrame(rows, columns=["participant", "statement", "value"]), truth


def conversation(source: str, participants: int, statements: int, seed: int):
    """(vote matrix, truth consensus ids, latent group count, the simulated assembly or None)
    of one conversation."""
    from pluralign.aggregate import from_votes, read_polis

    if source == "planted":
        votes, truth = planted(participants, statements, seed)
        return from_votes(votes), truth, len(PLANTED_SHARES), None
    from pluralign.simulate import SimulationSettings, simulate_assembly
    from pluralign.simulate.output import write_simulation

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = SimulationSettings(participants=participants, statements=statements, seed=seed)
        assembly = simulate_assembly(config)
        write_simulation(assembly, folder)
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        return read_polis(folder), truth["consensus"], len(truth["groups"]), assembly


def bayes_posterior(assembly, matrix):
    """P(consensus | the votes) of each statement (column of ``matrix``) for an oracle that
    knows everything the simulator does except which bank statement each one is: every
    participant's vote probabilities on every bank opinion statement
    (:meth:`~pluralign.simulate.model.SimulatedAssembly.vote_probabilities`, their latent
    memberships mixed), and a uniform prior over the bank's opinion statements. The posterior
    over bank statements b is ∝ Π_i p_i,b(v_i) over the statement's voters (its author's own
    agree left out); P(consensus) is the posterior mass of the bank's consensus statements.
    Fast, but not the simulator's model: the uniform prior leaves out that statements are drawn
    without replacement and that authors pick ones they agree with, and vote changes are not
    modelled, so it under-counts consensus and is only close to the bound;
    :func:`model_posterior` is the Bayes posterior (``--bayes model``; docs/sensemaking.md §6)."""
    import numpy as np

    from pluralign.formats.statement_bank import CONSENSUS

    opinions = assembly.bank.opinions
    probs = assembly.vote_probabilities(slugs=[o.slug for o in opinions])  # (people, B, 3)
    logp = np.log(np.maximum(probs, 1e-12))
    is_consensus = np.array([o.category == CONSENSUS for o in opinions])
    row_of = {int(p): i for i, p in enumerate(assembly.people["participant"])}
    rows = np.array([row_of.get(int(p), -1) for p in matrix.participants])
    author = dict(zip(assembly.statements["comment-id"].astype(int),
                      assembly.statements["author-id"].astype(int), strict=True))
    values, seen = matrix.values.tocsc(), matrix.seen.tocsc()
    out = np.zeros(matrix.shape[1])
    for j, sid in enumerate(matrix.statements):
        idx = seen.indices[seen.indptr[j]:seen.indptr[j + 1]]
        vals = np.asarray(values[:, j].toarray()).ravel()[idx]
        keep = (rows[idx] >= 0) & (matrix.participants[idx] != author.get(int(sid), -99))
        cat = np.where(vals > 0, 0, np.where(vals < 0, 1, 2))[keep]
        loglik = logp[rows[idx][keep], :, cat].sum(0) if keep.any() else np.zeros(len(opinions))
        w = np.exp(loglik - loglik.max())
        out[j] = float(w[is_consensus].sum() / w.sum())
    return out


def _final_vote_logp(assembly):
    """log P(the vote that counts is agree / disagree / pass) of every person on every bank
    opinion statement, (people, B, 3): their probabilities p, and with ``change_rate`` c the
    simulator's later change of a vote u to one of the other two, v, with probability
    ∝ p_v (+1e-6): P(v) = (1 − c) p_v + c Σ_{u ≠ v} p_u w_v / Σ_{x ≠ u} w_x."""
    import numpy as np

    opinions = assembly.bank.opinions
    probs = assembly.vote_probabilities(slugs=[o.slug for o in opinions])
    c = assembly.config.change_rate
    w = probs + 1e-6
    final = (1 - c) * probs
    for u in range(3):
        others = [x for x in range(3) if x != u]
        total = w[..., others].sum(-1)
        for v in others:
            final[..., v] += c * probs[..., u] * w[..., v] / total
    return np.log(np.maximum(final, 1e-12))


def model_posterior(assembly, matrix, sweeps: int = 1500, seed: int = 0):
    """P(consensus | every statement's votes) under the simulator's own generative model, per
    column of ``matrix``: the Bayes bound without :func:`bayes_posterior`'s shortcuts.

    The unknowns are which bank opinion statement b_j each of the conversation's J opinion
    statements is (an injective map: the simulator draws without replacement). Their prior is
    the simulator's: the moderator's seed statements are a uniformly random set with every
    topic's count ⌊n_seed / T⌋ or one more, exactly n_seed mod T topics having one more
    (round-robin over shuffled topics; every topic of the bank has more statements than there
    are rounds), and the participants' statements are drawn in time order, each ∝ P_author(
    agree)³ among the bank statements not used yet (its author's memberships known, as in
    the simulator). The likelihood of b_j is Π_i P_i,b(v_i) over the statement's voters but its
    author (vote changes included: :func:`_final_vote_logp`). The posterior over maps is
    sampled by Metropolis–Hastings: pick a statement j, propose b' from its own likelihood
    (tempered with 10 % uniform), take b' if no statement holds it or swap it with the
    statement k that does, and accept with the ratio of posterior × reverse / forward
    proposal ((q_j(b') + q_k(b_j)) either way for a swap); a map breaking the seed counts has
    prior 0. P(consensus) is the share of kept sweeps (after a quarter burnt in) in which b_j
    is a consensus bank statement. The oracle knows every person's vote probabilities (their
    latent memberships) and the bank, far more than a rule on the votes; with everything it
    knows it is the Bayes posterior, so thresholding it traces the best precision/recall any
    rule can reach on these votes. Calibrated on simulator 240, seeds 0–19 (docs/sensemaking.md
    §6)."""
    import numpy as np

    from pluralign.formats.statement_bank import CONSENSUS

    rng = np.random.default_rng(seed)
    opinions = assembly.bank.opinions
    n_bank = len(opinions)
    logp = _final_vote_logp(assembly)
    slugs = {o.slug for o in opinions}
    st = assembly.statements
    conv = st[st["slug"].isin(slugs)].reset_index(drop=True)
    row_of = {int(p): i for i, p in enumerate(assembly.people["participant"])}
    rows = np.array([row_of.get(int(p), -1) for p in matrix.participants])
    col_of = {int(sid): j for j, sid in enumerate(matrix.statements)}
    values, seen = matrix.values.tocsc(), matrix.seen.tocsc()
    n_conv = len(conv)
    lik = np.zeros((n_conv, n_bank))
    for k, r in conv.iterrows():
        j = col_of.get(int(r["comment-id"]))
        if j is None:  # rejected or not in the matrix: no votes to go by
            continue
        idx = seen.indices[seen.indptr[j]:seen.indptr[j + 1]]
        vals = np.asarray(values[:, j].toarray()).ravel()[idx]
        keep = (rows[idx] >= 0) & (matrix.participants[idx] != int(r["author-id"]))
        cat = np.where(vals > 0, 0, np.where(vals < 0, 1, 2))[keep]
        lik[k] = logp[rows[idx][keep], :, cat].sum(0)
    is_consensus = np.array([o.category == CONSENSUS for o in opinions])
    topic_names = sorted({o.topic for o in opinions})
    topic = np.array([topic_names.index(o.topic) for o in opinions])
    n_topics = len(topic_names)
    is_seed = conv["is_seed"].to_numpy().astype(bool)
    base, extra = divmod(int(is_seed.sum()), n_topics)
    authored = np.flatnonzero(~is_seed)
    authored = authored[np.argsort(conv["timestamp"].to_numpy()[authored], kind="stable")]
    agree_profile = np.stack([o.profile[:, 0] for o in opinions])  # (B, groups)
    weight = np.array([
        (assembly.membership[row_of[int(conv["author-id"][j])]] @ agree_profile.T) ** 3
        for j in authored]).reshape(len(authored), n_bank)
    log_weight, weight_total = np.log(weight), weight.sum(1)
    order = np.arange(len(authored))

    def log_prior(b) -> float:
        counts = np.bincount(topic[b[is_seed]], minlength=n_topics)
        if not (((counts == base) | (counts == base + 1)).all()
                and (counts == base + 1).sum() == extra):
            return -np.inf
        used_by_seeds = weight[:, b[is_seed]].sum(1)
        used_before = np.tril(weight[:, b[authored]], -1).sum(1)
        return float((log_weight[order, b[authored]]
                      - np.log(weight_total - used_by_seeds - used_before)).sum())

    q = np.exp(lik - lik.max(1, keepdims=True))
    q = 0.9 * q / q.sum(1, keepdims=True) + 0.1 / n_bank
    # start: a draw from each statement's own likelihood, made injective, seeds by topic count
    b = np.full(n_conv, -1)
    free = np.ones(n_bank, bool)
    need = np.full(n_topics, base)
    need[rng.choice(n_topics, extra, replace=False)] += 1
    for j in [*rng.permutation(np.flatnonzero(is_seed)), *rng.permutation(authored)]:
        w = q[j] * free * (need[topic] > 0 if is_seed[j] else 1)
        x = int(rng.choice(n_bank, p=w / w.sum()))
        b[j], free[x] = x, False
        if is_seed[j]:
            need[topic[x]] -= 1
    holder = np.full(n_bank, -1)
    holder[b] = np.arange(n_conv)
    prior = log_prior(b)
    hits, kept, burn = np.zeros(n_conv), 0, sweeps // 4
    for sweep in range(sweeps):
        for j in rng.permutation(n_conv):
            old, new = int(b[j]), int(rng.choice(n_bank, p=q[j]))
            if new == old:
                continue
            k = holder[new]
            proposal = b.copy()
            proposal[j] = new
            if k >= 0:
                proposal[k] = old
                ratio = (lik[j, new] + lik[k, old] - lik[j, old] - lik[k, new]
                         + np.log(q[j, old] + q[k, new]) - np.log(q[j, new] + q[k, old]))
            else:
                ratio = lik[j, new] - lik[j, old] + np.log(q[j, old]) - np.log(q[j, new])
            new_prior = log_prior(proposal)
            if np.isfinite(new_prior) and np.log(rng.random()) < ratio + new_prior - prior:
                b, prior = proposal, new_prior
                holder[old], holder[new] = (k if k >= 0 else -1), j
        if sweep >= burn:
            hits += is_consensus[b]
            kept += 1
    by_id = dict(zip(conv["comment-id"].astype(int), hits / max(kept, 1), strict=True))
    return np.array([by_id.get(int(sid), 0.0) for sid in matrix.statements])


BAYES_THRESHOLDS = (0.5, 0.6, 0.7)


def one(source: str, participants: int, statements: int, seed: int, rule,
        bayes: str | None = None, sweeps: int = 1500) -> dict:
    """Precision, recall and groups found for one conversation (and the Bayes bound's)."""
    from pluralign.aggregate import aggregate
    from pluralign.aggregate.truth import precision_recall

    matrix, truth, latent, assembly = conversation(source, participants, statements, seed)
    started = time.perf_counter()
    result = aggregate(matrix, seed=0)
    idx = result.consensus_columns(rule)
    seconds = time.perf_counter() - started
    found = [int(result.matrix.statements[j]) for j in idx]
    precision, recall = precision_recall(found, truth)
    sizes = sorted(int((result.groups == g).sum()) for g in range(result.n_groups))
    row = {
        "source": source,
        "participants": participants,
        "seed": seed,
        "precision": precision,
        "recall": recall,
        "true": len(truth),
        "found": len(found),
        "groups": result.n_groups,
        "latent": latent,
        "group_sizes": sizes,
        "seconds": seconds,
    }
    if bayes and assembly is not None:
        if bayes == "model":
            post = model_posterior(assembly, matrix, sweeps, seed)
        else:
            post = bayes_posterior(assembly, matrix)
        for t in BAYES_THRESHOLDS:
            chosen = [int(s) for s, p in zip(matrix.statements, post, strict=True) if p >= t]
            row[f"bayes_{t}"] = precision_recall(chosen, truth)
    return row


def main(argv: list[str] | None = None) -> int:
    from pluralign.aggregate.consensus import METHODS, ConsensusRule

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", choices=("simulator", "planted"), default="simulator")
    ap.add_argument("--sizes", default="60,240,1000", help="Panel sizes, comma-separated.")
    ap.add_argument("--seeds", default=",".join(map(str, range(20))),
                    help="Seeds, comma-separated (default 0-19).")
    ap.add_argument("--statements", type=int, default=120)
    ap.add_argument("--method", choices=METHODS, default=ConsensusRule.method)
    ap.add_argument("--min-posterior", type=float, default=ConsensusRule.min_posterior)
    ap.add_argument("--prior-votes", type=float, default=ConsensusRule.prior_votes)
    ap.add_argument("--no-halves", action="store_true", help="posterior: do not check halves.")
    ap.add_argument("--min-group-agreement", type=float, default=ConsensusRule.min_group_agreement)
    ap.add_argument("--min-group-votes", type=int, default=ConsensusRule.min_group_votes)
    ap.add_argument("--min-group-coverage", type=float, default=ConsensusRule.min_group_coverage,
                    help="Coverage a group needs to take part (0: every group, the rule before).")
    ap.add_argument("--interval-z", type=float, default=ConsensusRule.interval_z)
    ap.add_argument("--min-subgroup-agreement", type=float,
                    default=ConsensusRule.min_subgroup_agreement, help="interval; 0: no halves.")
    ap.add_argument("--point", action="store_true",
                    help="The rule before interval bounds: point shares ≥ 0.6, no halves.")
    ap.add_argument("--no-bayes", action="store_true",
                    help="simulator: skip the Bayes bound (an oracle's posterior).")
    ap.add_argument("--bayes", choices=("uniform", "model"), default="uniform",
                    help="simulator: the bound's posterior: uniform (each statement alone, a "
                    "uniform prior over the bank; fast) or model (the simulator's own prior "
                    "and drawing without replacement, by MCMC: the Bayes bound; ~40 s a seed).")
    ap.add_argument("--sweeps", type=int, default=1500, help="--bayes model: MCMC sweeps.")
    ap.add_argument("--json", type=Path, help="Also write every row as JSON here.")
    args = ap.parse_args(argv)
    if args.point:
        rule = ConsensusRule(0.6, args.min_group_votes, None, 0.0, None, method="interval",
                             min_group_coverage=args.min_group_coverage)
    else:
        rule = ConsensusRule(args.min_group_agreement, args.min_group_votes, None,
                             args.interval_z, args.min_subgroup_agreement or None,
                             method=args.method, min_posterior=args.min_posterior,
                             prior_votes=args.prior_votes, check_halves=not args.no_halves,
                             min_group_coverage=args.min_group_coverage)
    bayes = args.bayes if args.source == "simulator" and not args.no_bayes else None
    sizes = [int(x) for x in args.sizes.split(",")]
    seeds = [int(x) for x in args.seeds.split(",")]
    rows = []
    print(f"{args.source}; {rule}")
    extra = "".join(f" Bayes ≥ {t} |" for t in BAYES_THRESHOLDS) if bayes else ""
    print(f"| participants | seed | precision | recall | found / true | groups (sizes) |{extra}")
    print("|---|---|---|---|---|---|" + "---|" * (len(BAYES_THRESHOLDS) if bayes else 0))

    def pr(pair) -> str:
        return f" {pair[0]:.2f} / {pair[1]:.2f} |"

    for n in sizes:
        mine = []
        for seed in seeds:
            r = one(args.source, n, args.statements, seed, rule, bayes, args.sweeps)
            mine.append(r)
            tail = "".join(pr(r[f"bayes_{t}"]) for t in BAYES_THRESHOLDS) if bayes else ""
            print(
                f"| {n} | {seed} | {r['precision']:.2f} | {r['recall']:.2f} | "
                f"{r['found']} / {r['true']} | {r['groups']} of {r['latent']} "
                f"({', '.join(map(str, r['group_sizes']))}) |{tail}",
                flush=True,
            )
        p = statistics.mean(r["precision"] for r in mine)
        rc = statistics.mean(r["recall"] for r in mine)
        g = statistics.mean(r["groups"] for r in mine)
        tail = ""
        if bayes:
            tail = "".join(
                pr([statistics.mean(r[f"bayes_{t}"][k] for r in mine) for k in (0, 1)])
                for t in BAYES_THRESHOLDS
            )
        print(f"| **{n}** | mean | **{p:.2f}** | **{rc:.2f}** | | {g:.1f} |{tail}", flush=True)
        rows += mine
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
