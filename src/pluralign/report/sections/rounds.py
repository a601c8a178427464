"""The rounds of iterative bootstrapping (``RUN/rounds.json``, docs/rounds.md): the per-round
curve of held-out accuracy and a table of what each round trained on and gained. The sections
about the trained model (headline, per-group accuracy, generations, training) show the last
round's files."""

from __future__ import annotations

from pathlib import Path

from pluralign.report import plots
from pluralign.report.blocks import Section, number, read_json_object, rel


def _generator(run: Path, value: str | None) -> str:
    if not value:
        return "no synthesis (the panel's pairs)"
    try:
        return str(Path(value).relative_to(run.resolve()))
    except ValueError:
        return value


def rounds_section(run: Path) -> Section | None:
    path = run / "rounds.json"
    data = read_json_object(path)
    if not data or not data.get("rounds"):
        return None
    rounds = data["rounds"]
    s = Section(
        "rounds",
        "Rounds",
        "Each round after the first synthesised its training data with the previous round's "
        "model and trained from that model's weights; every round is scored on the same "
        "held-out pairs (round 1's). The curve is the held-out preference accuracy over all "
        "pairs after each round; 'base' is the model before any training.",
        part="result",
    )
    s.sources.append(rel(run, path))
    first = rounds[0]["metrics"]
    points = [first["accuracy_before"], *(r["metrics"]["accuracy"] for r in rounds)]
    worst = [None, *((r["metrics"].get("worst_group") or {}).get("accuracy") for r in rounds)]
    margin = first.get("margin")
    caption = "Held-out accuracy per round (95% interval shaded)"
    if margin == "implicit":
        caption += ("; the implicit reward of each round's model against the base model, so "
                    "'base' is a tie by construction")
    s.figure(plots.rounds_curve(range(len(points)), points, worst), caption)
    rows = []
    for r in rounds:
        m = r["metrics"]
        acc = m["accuracy"]
        rows.append({
            "round": r["round"],
            "data written by": _generator(run, r.get("generator")),
            "steps": ", ".join(r.get("steps") or []) or "none",
            "pairs synthesised": number(r["pairs"]["synthesised"]),
            "pairs trained on": number(r["pairs"]["train"]),
            "accuracy": f"{acc['estimate']:.3f} [{acc['low']:.3f}, {acc['high']:.3f}]",
            "gain": f"{m['gain']:+.3f}",
            "seconds": f"{r.get('seconds') or 0:.0f}",
        })
    s.table(rows, numeric=("round", "pairs synthesised", "pairs trained on", "gain", "seconds"),
            optional=("steps", "seconds"),
            caption="gain: accuracy minus the previous round's (round 1: minus the base model's)")
    stopped = data.get("stopped")
    if stopped:
        s.text(f"Stopped early: {stopped['reason']}.")
    elif data.get("completed", len(rounds)) < data.get("count", len(rounds)):
        s.text(f"{data['completed']} of {data['count']} rounds have finished.")
    return s
