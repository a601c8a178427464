"""The held-out split of preference pairs: by prompt, seeded, weights renormalised per split.

A prompt's pairs all go to one side, so the evaluation never scores a prompt the model was
trained on. ``heldout_fraction`` of the distinct prompts (rounded; at least one and at most all
but one when there are two or more) are drawn by a seeded permutation of the sorted prompts.
Each side's weights are rescaled to mean 1 (:func:`~pluralign.data.weighting.normalise_mean_one`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pluralign.data.preferences import PreferencePair


def heldout_prompts(prompts: Sequence[str], heldout_fraction: float, seed: int) -> set[str]:
    """The prompts held out of training."""
    import numpy as np

    ordered = sorted(set(prompts))
    order = np.random.default_rng(seed).permutation(len(ordered))
    n_held = int(round(heldout_fraction * len(ordered)))
    if len(ordered) >= 2:
        n_held = min(max(n_held, 1), len(ordered) - 1)
    return {ordered[i] for i in order[:n_held]}


def split_by_prompt(pairs: Sequence[PreferencePair], heldout_fraction: float, seed: int
                    ) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """``(train, heldout)``: the pairs of the held-out prompts apart, weights mean 1 per side."""
    from pluralign.data.weighting import normalise_mean_one

    held = heldout_prompts([p.prompt for p in pairs], heldout_fraction, seed)
    sides: list[list[PreferencePair]] = []
    for heldout in (False, True):
        part = [p for p in pairs if (p.prompt in held) == heldout]
        if part:
            w = normalise_mean_one([p.weight for p in part])
            part = [p.with_weight(float(x)) for p, x in zip(part, w, strict=True)]
        sides.append(part)
    return sides[0], sides[1]
