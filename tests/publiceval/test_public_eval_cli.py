"""``pluralign eval-public`` end to end on a store with two opinion camps: set up, generate,
rate, results per opinion group with the judge's agreement, export, and the report section."""

from __future__ import annotations

import json

import pytest
from public_eval_kit import CLAUSES_YAML, PROMPTS, scripted_answers

from pluralign.cli import main

pytest_plugins = ["conftest_llm"]  # the scripted OpenAI-compatible server
SLUG = "camps"


def eval_public(command: str, db: str, *args) -> None:
    """``pluralign eval-public COMMAND --db DB --slug camps ARGS`` in this process."""
    main(["eval-public", command, "--db", db, "--slug", SLUG, *map(str, args)])


def seed_camps(store, n=10, n_statements=6):
    """An open assembly where participants 0..4 and 5..9 vote opposite ways (two groups)."""
    from pluralign.web import service

    with store.session() as s:
        form = service.parse_assembly_form("Two camps", "", False, "", "", "4")
        a = service.create_assembly(s, SLUG, form)
        service.set_state(a, "open")
        service.add_seed_statements(s, a, [f"Statement {i}" for i in range(n_statements)])
        people = []
        for i in range(n):
            p = service.join(s, a, None)
            people.append(p.id)
            for st in range(n_statements):
                value = 1 if (st < 3) == (i < n // 2) else -1
                service.record_vote(s, a, p, st, value, f"seed-{i}-{st}")
    return people


def rate_all(store, people):
    """Camp 1 (first half) always prefers model B, camp 2 always model A."""
    from pluralign.publiceval import service as svc
    from pluralign.store.models import Participant
    from pluralign.store.queries import get_assembly

    for k, pid in enumerate(people):
        while True:
            with store.session() as s:
                ev = svc.get_eval(s, get_assembly(s, SLUG))
                p = s.get(Participant, pid)
                imp = svc.next_impression(s, ev, p)
                if imp is None:
                    break
                wanted_first = (k < len(people) // 2) != imp.a_first  # B first <=> not a_first
                svc.record_choice(s, ev, p, imp.id, "first" if wanted_first else "second")


@pytest.fixture
def files(tmp_path):
    (tmp_path / "constitution.yaml").write_text(CLAUSES_YAML)
    (tmp_path / "prompts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in PROMPTS))
    return tmp_path


def test_cli_round_trip_with_groups_judge_and_report(store, scripted, files, tmp_path):
    from pluralign.data.preferences import read_jsonl
    from pluralign.report.build import render_report

    script, url = scripted
    scripted_answers(script)
    people = seed_camps(store)
    db = store.url
    models = ["--a-url", url, "--a-model", "base", "--b-url", url, "--b-model", "tuned"]
    inputs = ["--constitution", files / "constitution.yaml", "--prompts", files / "prompts.jsonl"]
    eval_public("setup", db, *models, *inputs, "--answer-tokens", "32", "--seed", "5")
    eval_public("generate", db, "--cache", tmp_path / "c")
    assert len(script.seen) == 4 and all(b["max_tokens"] == 32 for b in script.seen)
    eval_public("state", db, "open")
    rate_all(store, people)

    run = tmp_path / "run"
    (run / "evaluate").mkdir(parents=True)
    # the judge: B on p1, A on p2 (p2 judged against both clauses, both A)
    items = [
        {"id": "p1", "prompt": PROMPTS[0]["prompt"], "clause_id": "honest", "verdict": "b"},
        {"id": "p2", "prompt": PROMPTS[1]["prompt"], "clause_id": None, "verdict": "a"},
    ]
    (run / "evaluate" / "judge_items.jsonl").write_text(
        "".join(json.dumps(i) + "\n" for i in items)
    )
    out = run / "evaluate" / "public_eval.json"
    judge = run / "evaluate" / "judge_items.jsonl"
    eval_public("results", db, "--out", out, "--judge", judge, "--n-boot", "200")
    doc = json.loads(out.read_text())
    assert doc["n_ratings"] == 10 * 3 and doc["n_participants"] == 10
    assert doc["overall"]["win_rate_b"] == pytest.approx(0.5)
    groups = doc["per_group"]
    assert len(groups) == 2 and "(none)" not in groups  # both camps were placed in groups
    assert sorted(g["win_rate_b"] for g in groups.values()) == [0.0, 1.0]
    assert all(g["participants"] == 5 and g["ci_low"] == g["ci_high"] for g in groups.values())
    # people split 50/50 on every prompt -> tie; the judge says b and a: no agreement
    assert {r["people"] for r in doc["per_prompt"]} == {"tie"}
    assert doc["agreement"]["n"] == 2 and doc["agreement"]["agree"] == 0.0
    assert doc["provenance"]["presentation_seed"] == 5
    assert doc["provenance"]["clauses"]["n"] == 2

    prefs = tmp_path / "prefs.jsonl"
    eval_public("export", db, "--out", prefs)
    pairs = read_jsonl(prefs)
    assert len(pairs.pairs) == 30
    assert {p.source for p in pairs.pairs} == {"public-eval"}
    assert {p.group for p in pairs.pairs} == set(groups)
    for p in pairs.pairs:  # each group's pairs prefer its camp's model
        won = "tuned" if groups[p.group]["win_rate_b"] == 1.0 else "base"
        assert p.chosen.startswith(f"[{won}]")
        assert p.provenance["clause_id"] in ("honest", "kind")
    assert pairs.provenance["rows"] == 30

    # the report shows the people beside the judge, with the agreement
    (run / "evaluate" / "judge.json").write_text(json.dumps({"model_a": "base"}))
    html = render_report(run)
    assert "Public evaluation" in html and "Cohen&#39;s kappa" in html
    assert html.index("Constitutional judge") < html.index("Public evaluation")
    assert "The assistant is kind to the user." in html


def test_cli_errors_name_what_is_wrong(tmp_path, files, capsys):
    from conftest import run_cli
    from pluralign.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'e.db'}")
    db = store.url
    r = run_cli("eval-public", "generate", "--db", db, "--slug", "nope")  # as a user runs it
    assert r.returncode == 1 and "no assembly 'nope'" in r.stderr and "Traceback" not in r.stderr
    seed_camps(store, n=2, n_statements=1)
    bad = files / "bad.csv"
    bad.write_text("prompt,id\nfine,x\n,y\n")

    def fails(command, *args):
        with pytest.raises(SystemExit) as done:
            eval_public(command, db, *args)
        assert done.value.code == 1
        return capsys.readouterr().err

    def setup(a_url, *args):
        models = ["--a-url", a_url, "--b-url", "http://127.0.0.1:9/v1"]
        return fails("setup", *models, "--constitution", files / "constitution.yaml", *args)

    assert "bad.csv, line 3" in setup("http://127.0.0.1:9/v1", "--prompts", bad)
    err = fails("state", "open")
    assert "no public evaluation" in err  # the failed setup wrote nothing
    assert "must start with http" in setup("localhost:8000")
    store.dispose()
