"""The held-out split of preference pairs: whole statements apart, then by prompt; seeded,
weights renormalised per split.

Two parts are held out, so that the evaluation can tell a new wording from a new question:

- **Unseen statements** (:func:`held_back_statements`): ``unseen_fraction`` of the distinct
  statements (per kind, rounded half up; at least one in all when the fraction is above 0 and
  there are two or more statements, never all of them) are held back with every prompt that
  asks about them. The model never sees such a statement under any wording.
- **New wordings** (:func:`heldout_prompts`): of the remaining prompts, ``heldout_fraction`` of
  the distinct prompts (rounded; at least one when there are two or more, never all) are drawn
  by a seeded permutation of the sorted prompts.

A prompt's pairs all go to one side, so the evaluation never scores a prompt the model was
trained on. Each held-out pair's provenance says which part it is in (``heldout_part``,
:func:`heldout_part`): ``new-wording`` when its statement is asked in training under another
prompt, ``unseen-statement`` when no training prompt asks about it (a held-back statement, or
one whose only prompts were all drawn as held-out wordings). A pair without a statement (no
``clause_id`` or ``statement_ids`` in its provenance) gets no part. Each side's weights are
rescaled to mean 1 (:func:`~pluralign.data.weighting.normalise_mean_one`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from pluralign.data.preferences import PreferencePair

NEW_WORDING = "new-wording"
UNSEEN_STATEMENT = "unseen-statement"
HELDOUT_PARTS = (NEW_WORDING, UNSEEN_STATEMENT)
"""The values of a held-out pair's ``provenance.heldout_part``."""


def held_back_statements(kinds: Mapping[str, str], unseen_fraction: float, seed: int
                         ) -> set[str]:
    """Statements held back whole: ``kinds`` maps statement id → kind (one kind for all when
    the input has none); within each kind a seeded permutation of the sorted ids puts
    ``floor(fraction · n + 0.5)`` first; when that gives none in all but there are two or more
    statements and the fraction is above 0, one of the largest kind (first in sorted order among
    equals) is held back; all of them never are (one stays in training)."""
    import numpy as np

    if not 0 <= unseen_fraction < 1:
        raise ValueError(f"unseen fraction must be in [0, 1), got {unseen_fraction}")
    rng = np.random.default_rng([seed, 3])
    by_kind: dict[str, list[str]] = {}
    for sid, kind in kinds.items():
        by_kind.setdefault(str(kind), []).append(sid)
    held: list[str] = []
    orders: dict[str, list[str]] = {}
    for kind in sorted(by_kind):
        ids = sorted(by_kind[kind])
        orders[kind] = [ids[i] for i in rng.permutation(len(ids))]
        held += orders[kind][: math.floor(unseen_fraction * len(ids) + 0.5)]
    total = len(kinds)
    if unseen_fraction > 0 and total >= 2 and not held:
        largest = max(sorted(by_kind), key=lambda k: len(by_kind[k]))
        held = orders[largest][:1]
    if len(held) >= total > 0:
        held = held[: total - 1]
    return set(held)


def heldout_prompts(prompts: Sequence[str], heldout_fraction: float, seed: int) -> set[str]:
    """The prompts held out of training."""
    import numpy as np

    ordered = sorted(set(prompts))
    order = np.random.default_rng(seed).permutation(len(ordered))
    n_held = int(round(heldout_fraction * len(ordered)))
    if len(ordered) >= 2:
        n_held = max(n_held, 1)
    n_held = min(n_held, max(len(ordered) - 1, 0))
    return {ordered[i] for i in order[:n_held]}


def statement_of(pair: PreferencePair) -> str | None:
    """The statement a pair asks about: its clause (LLM synthesis) or its first statement id
    (simulated panel); None when its provenance names neither."""
    prov = pair.provenance or {}
    if prov.get("clause_id") not in (None, ""):
        return str(prov["clause_id"])
    ids = prov.get("statement_ids")
    if isinstance(ids, list | tuple) and ids:
        return str(ids[0])
    return None


def heldout_part(statement: str | None, trained: set[str]) -> str | None:
    """``new-wording`` when the statement has a training prompt, ``unseen-statement`` when it
    has none, None for a pair without a statement."""
    if statement is None:
        return None
    return NEW_WORDING if statement in trained else UNSEEN_STATEMENT


def split_by_prompt(pairs: Sequence[PreferencePair], heldout_fraction: float, seed: int,
                    unseen_fraction: float = 0.0
                    ) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """``(train, heldout)``: the pairs of the held-back statements (``unseen_fraction`` of the
    distinct statements, :func:`held_back_statements`) and of the held-out prompts apart,
    weights mean 1 per side, each held-out pair marked with its ``heldout_part``."""
    from pluralign.data.weighting import normalise_mean_one

    statements = {s: "" for p in pairs if (s := statement_of(p)) is not None}
    back = held_back_statements(statements, unseen_fraction, seed)
    rest = [p.prompt for p in pairs if statement_of(p) not in back]
    held = heldout_prompts(rest, heldout_fraction, seed)
    held |= {p.prompt for p in pairs if statement_of(p) in back}
    trained = {s for p in pairs if p.prompt not in held and (s := statement_of(p)) is not None}
    sides: list[list[PreferencePair]] = []
    for heldout in (False, True):
        part = [p for p in pairs if (p.prompt in held) == heldout]
        if heldout:
            part = [_marked(p, heldout_part(statement_of(p), trained)) for p in part]
        if part:
            w = normalise_mean_one([p.weight for p in part])
            part = [p.with_weight(float(x)) for p, x in zip(part, w, strict=True)]
        sides.append(part)
    return sides[0], sides[1]


def _marked(pair: PreferencePair, part: str | None) -> PreferencePair:
    if part is None:
        return pair
    from dataclasses import replace

    return replace(pair, provenance={**dict(pair.provenance or {}), "heldout_part": part})
