"""``pluralign constitution check --votes CONVERSATION``: does a (hand-edited) constitution still
stand on its votes?

People reword, split, merge and delete clauses by hand. Whatever they did, every clause must
still cite statements the conversation has, with the votes it really has. :func:`check_against`
compares a constitution with a conversation:

* **errors** (the check fails): a cited statement the conversation does not have, or one that
  was moderated out;
* **warnings**: recorded votes that differ from the data (overall, or per opinion group of this
  aggregation), an input other than the one drafted from (sha256), a statement that is not
  cross-group consensus under the recorded thresholds;
* **flags** (:mod:`pluralign.sensemaking.faithful`), recomputed for the clause as it now reads:
  a reworded clause that adds a claim, loses a negation or qualifier, or a clause that merges
  statements its co-voters split on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pluralign.constitution.settings import RULE_SETTINGS, ConstitutionSettings
from pluralign.errors import InputError, at


@dataclass(frozen=True)
class CheckReport:
    clauses: int
    statements: int
    warnings: tuple[str, ...] = ()
    flags: dict[str, tuple] = field(default_factory=dict)
    """Clause id → its flags as it now reads."""


def check_against(
    constitution,
    result,
    source: str = "constitution.yaml",
    text: str | None = None,
    embedder: str = ConstitutionSettings.embedder,
) -> CheckReport:
    """Check ``constitution`` against an :class:`~pluralign.aggregate.AggregateResult` (see the
    module docstring); raises :class:`InputError` naming the clause, statement and line of the
    first statement id the conversation does not have."""
    from pluralign.constitution.draft import candidates
    from pluralign.constitution.principles import merged_disagreement
    from pluralign.models.embed import embed
    from pluralign.sensemaking.faithful import check_principle
    from pluralign.sensemaking.merge import MergeRules
    from pluralign.sensemaking.textclean import Vocabulary, clean_text

    m = result.matrix
    col = {int(s): j for j, s in enumerate(m.statements)}
    excluded = {int(s) for s in m.excluded_statements}
    checker = None
    if text is not None:
        from pluralign.constitution.document import _Checker

        checker = _Checker(text, source)
    unknown = []
    for i, cl in enumerate(constitution.clauses):
        for k, e in enumerate(cl.evidence):
            if e.statement not in col:
                line = checker.line(("clauses", i, "statements", k, "id")) if checker else None
                why = "was moderated out" if e.statement in excluded else "does not exist"
                unknown.append((cl.id, e.statement, why, line))
    if unknown:
        cid, sid, why, line = unknown[0]
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise InputError(
            f"clause {cid} cites statement {sid}, which {why} in the conversation{more}",
            where=at(source, line, f"clause {cid}"),
            hint="cite statement ids of this conversation, or remove the statement from the "
            "clause (a clause with no statements is kept as added by hand)",
        )
    warnings: list[str] = []
    prov = constitution.provenance or {}
    if prov.get("input_sha256") and prov["input_sha256"] != m.source_sha256:
        warnings.append(
            f"drafted from input sha256 {str(prov['input_sha256'])[:12]}, this "
            f"conversation is {str(m.source_sha256)[:12]}"
        )
    agree, disagree, passes = m.counts()
    st = result.stats
    recorded = prov.get("draft_settings") or {}
    given = {k: recorded[k] for k in RULE_SETTINGS if k in recorded}
    if recorded and "min_group_coverage" not in given:
        given["min_group_coverage"] = 0.0  # drafted before small groups stopped vetoing
    if "min_group_agreement" in given and "consensus_method" not in given:
        # drafted before the posterior rule: the interval rule, or before that (no
        # interval_z) the point share with no halves
        given["consensus_method"] = "interval"
        if "interval_z" not in given:
            given.update(interval_z=0.0, min_subgroup_agreement=None)
    rule = ConstitutionSettings(**given)
    consensus = {int(m.statements[j]) for j in candidates(result, rule)}
    group_mismatch = 0
    for cl in constitution.clauses:
        for e in cl.evidence:
            j = col[e.statement]
            data = (int(agree[j]), int(disagree[j]), int(passes[j]))
            if (e.agree, e.disagree, e.passes) != data:
                warnings.append(
                    f"{cl.id} #{e.statement}: recorded agree/disagree/pass "
                    f"{e.agree}/{e.disagree}/{e.passes}, the data has "
                    f"{data[0]}/{data[1]}/{data[2]}"
                )
            for g, v in e.groups.items():
                if g >= result.n_groups or (v.agree, v.disagree) != (
                    int(st.agree[g, j]),
                    int(st.disagree[g, j]),
                ):
                    group_mismatch += 1
                    break
            if e.statement not in consensus:
                warnings.append(
                    f"{cl.id} #{e.statement} is not cross-group consensus under the "
                    "recorded thresholds"
                )
    if group_mismatch:
        warnings.append(
            f"{group_mismatch} statement(s) have per-group votes that differ from "
            f"this aggregation ({result.n_groups} groups, seed {result.seed}); "
            "opinion groups depend on the seed and settings"
        )
    vocab = Vocabulary.of(m.texts)
    sources = [
        [clean_text(m.texts[col[e.statement]], vocab)[0] for e in cl.evidence]
        for cl in constitution.clauses
    ]
    with_src = [i for i, s in enumerate(sources) if s]
    sims: dict[int, float] = {}
    if with_src:
        texts = [constitution.clauses[i].text for i in with_src]
        flat = [x for i in with_src for x in sources[i]]
        vectors, method = embed(texts + flat, embedder)
        if method == "minilm":
            k = len(texts)
            for n, i in enumerate(with_src):
                block = vectors[k : k + len(sources[i])]
                k += len(sources[i])
                centre = block.mean(axis=0)
                sims[i] = float(vectors[n] @ centre / (np.linalg.norm(centre) or 1.0))
    rules = MergeRules()
    flags: dict[str, tuple] = {}
    for i, cl in enumerate(constitution.clauses):
        if not sources[i]:
            continue
        found = list(check_principle(cl.text, sources[i], similarity=sims.get(i)))
        if len(cl.evidence) > 1:
            cols = [col[e.statement] for e in cl.evidence]
            found += merged_disagreement(
                [e.statement for e in cl.evidence],
                m.values[:, cols].toarray(),
                m.seen[:, cols].toarray() > 0,
                rules,
            )
        if found:
            flags[cl.id] = tuple(found)
    return CheckReport(
        clauses=len(constitution.clauses),
        statements=sum(len(cl.evidence) for cl in constitution.clauses),
        warnings=tuple(warnings),
        flags=flags,
    )
