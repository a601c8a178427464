"""Sensemaking: topics of a conversation and grounded summaries of common ground and differences.

Public API::

    from pluralign.aggregate import aggregate, read_polis
    from pluralign.sensemaking import SensemakingSettings, run
    result = run(aggregate(read_polis("conversation/")), SensemakingSettings(), seed=0)
    result.topics.topics; result.summary.share_grounded; result.write("out/")

The same pieces word the constitution's principles: :mod:`~pluralign.sensemaking.textclean`
(typos), :mod:`~pluralign.sensemaking.merge` (which statements say the same thing),
:mod:`~pluralign.sensemaking.faithful` (flags), :mod:`~pluralign.sensemaking.writer` (the LLM
steps, batched and cached). docs/sensemaking.md describes every rule and its measurements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "SensemakingResult": "pluralign.sensemaking.run",
    "SensemakingSettings": "pluralign.sensemaking.settings",
    "Summary": "pluralign.sensemaking.summaries",
    "Topic": "pluralign.sensemaking.topics",
    "TopicModel": "pluralign.sensemaking.topics",
    "Writer": "pluralign.sensemaking.writer",
    "run": "pluralign.sensemaking.run",
}
__all__ = [
    "SensemakingResult",
    "SensemakingSettings",
    "Summary",
    "Topic",
    "TopicModel",
    "Writer",
    "run",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.sensemaking.run import SensemakingResult, run
    from pluralign.sensemaking.settings import SensemakingSettings
    from pluralign.sensemaking.summaries import Summary
    from pluralign.sensemaking.topics import Topic, TopicModel
    from pluralign.sensemaking.writer import Writer
