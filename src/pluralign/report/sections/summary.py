"""The grounded summary of the deliberation (``RUN/constitution/summary.json``, written by the
constitution stage; docs/sensemaking.md §5): per topic, what most of every opinion group agrees
on and where the groups differ, each sentence with its cited statements and shares, and the
share of sentences that passed the grounding check against the votes."""

from __future__ import annotations

from pathlib import Path

from pluralign.errors import InputError
from pluralign.report.blocks import Section, read_json_object, rel

KINDS = {"common_ground": "common ground", "difference": "difference"}


def summary_section(run: Path) -> Section | None:
    path = run / "constitution" / "summary.json"
    data = read_json_object(path)
    if data is None:
        return None
    from pluralign.sensemaking.summaries import Summary

    try:
        summary = Summary.from_dict(data, str(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not a pluralign summary: {exc}", where=str(path)) from None
    s = Section(
        "summary",
        "Common ground and differences",
        "Per topic, what most of every opinion group agrees with and where groups differ. "
        "Each sentence cites its statements with each group's agree share; every citation "
        "was checked against the votes (the statements exist, have enough votes, the claimed "
        "direction holds in each named group and each share equals the data's).",
        [rel(run, path)],
    )
    share = summary.share_grounded
    s.keyvalues({
        "sentences": len(summary.sentences),
        "grounded": "no sentences" if share is None else f"{share:.0%} of {summary.written}",
        "statements need": f"at least {summary.min_votes} votes",
        "wording": "templates quoting the statements (not reworded)"
        if not any(x.written_by == "llm" for x in summary.sentences) else "LLM, checked",
    })
    rows = [
        {
            "topic": topic.name,
            "kind": KINDS.get(x.kind, x.kind),
            "sentence": x.text,
            "cited": x.cited,
            "grounded": "yes" if x.grounded else "no: " + "; ".join(x.problems),
        }
        for topic in summary.topics
        for x in topic.sentences
    ]
    if rows:
        s.table(rows, caption="Sentences by topic", optional=("kind", "cited"))
    else:
        s.text("No statement had enough votes and a clear majority in every group or a split.")
    return s
