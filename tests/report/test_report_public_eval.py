"""The report's public-evaluation section computes the people/judge agreement itself when the
results file has none (an older `pluralign eval-public results`, or one run without --judge)."""

from __future__ import annotations

import json

from pluralign.report.public_section import public_eval_section


def _score(n):
    return {
        "n": n,
        "participants": n,
        "wins_a": 0,
        "wins_b": n,
        "neither": 0,
        "win_rate_b": 1.0,
        "ci_low": 1.0,
        "ci_high": 1.0,
    }


def _agreement(section):
    (kv,) = [b for b in section.blocks if b["type"] == "kv" and "Agreement" in b["caption"]]
    return dict(kv["items"])


def test_agreement_is_computed_from_judge_items_when_missing(tmp_path):
    ev = tmp_path / "evaluate"
    ev.mkdir()
    doc = {
        "n_ratings": 4,
        "n_participants": 4,
        "overall": _score(4),
        # people: b, a, tie, b; the judge: b, b, tie on p1-p3 and nothing usable on p4
        "per_prompt": [
            {"prompt": "p1", "people": "b"},
            {"prompt": "p2", "people": "a"},
            {"prompt": "p3", "people": "tie"},
            {"prompt": "p4", "people": "b"},
        ],
    }
    (ev / "public_eval.json").write_text(json.dumps(doc))
    items = [
        {"prompt": "p1", "verdict": "b"},
        {"prompt": " p2 ", "verdict": "b"},
        {"prompt": "p3", "verdict": "tie"},
        {"prompt": "p4", "verdict": "failure"},
    ]
    (ev / "judge_items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    s = public_eval_section(tmp_path)
    assert s is not None and "evaluate/judge_items.jsonl" in s.sources
    values = _agreement(s)
    assert values["prompts rated by both"] == "3"
    assert values["same verdict (share)"] == f"{2 / 3:.3f}"
    # p_o = 2/3; people b,a,tie and judge b,b,tie: p_e = (1*2 + 1*0 + 1*1) / 9 = 1/3
    assert values["Cohen's kappa"] == f"{(2 / 3 - 1 / 3) / (1 - 1 / 3):.3f}"


def test_agreement_in_the_file_is_shown_as_is(tmp_path):
    ev = tmp_path / "evaluate"
    ev.mkdir()
    doc = {
        "n_ratings": 1,
        "n_participants": 1,
        "overall": _score(1),
        "agreement": {"n": 7, "agree": 0.5, "kappa": 0.25},
    }
    (ev / "public_eval.json").write_text(json.dumps(doc))
    (ev / "judge_items.jsonl").write_text(json.dumps({"prompt": "p", "verdict": "a"}) + "\n")
    s = public_eval_section(tmp_path)
    assert "evaluate/judge_items.jsonl" not in s.sources
    values = _agreement(s)
    assert values["prompts rated by both"] == "7" and values["Cohen's kappa"] == "0.250"
