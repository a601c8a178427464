"""The report reads as a result: it opens with a summary (what ran, the model card line, before →
after per group with the worst group named), lists the worst group first in every per-group
table, marks groups too small for an interval, shows the answers side by side, and keeps the
manifests and settings in an appendix in pipeline order. Asserted on the HTML a reader gets,
from run folders written by the demo's own stages."""

from __future__ import annotations

import json
import shutil

import pytest
from report_html import read_page

from pluralign.errors import InputError
from pluralign.report import render_report
from pluralign.report.glossary import subset_label
from pluralign.report.sections import generations_section

pytest_plugins = ["report_fixtures"]  # demo_run, demo_copy: run folders of the demo's stages


@pytest.fixture(scope="module")
def html(demo_run):
    return render_report(demo_run)


@pytest.fixture(scope="module")
def page(html):
    return read_page(html)


@pytest.fixture(scope="module")
def metrics(demo_run):
    return json.loads((demo_run / "evaluate" / "metrics.json").read_text())


def _after(cell_text: str) -> float:
    return float(cell_text.split("→")[-1])


def _worst(metrics, subset, grouping):
    rows = [g for g in metrics["groups"] if (g["subset"], g["grouping"]) == (subset, grouping)]
    return min(
        rows, key=lambda g: (g["after"]["estimate"], g["improvement"]["estimate"], g["group"])
    )


def test_opens_with_the_result_and_ends_with_the_appendix(page):
    ids, parts = page.section_ids(), [p for _, p in page.sections]
    assert ids[0] == "summary"
    assert ids[:3] == ["summary", "evaluation", "generations"]
    assert parts == sorted(parts, key=["result", "process", "appendix"].index)  # parts in order
    assert ids[-3:] == ["run", "files", "glossary"]
    assert dict(page.sections)["run"] == "appendix"
    # nothing before the appendix shows settings or manifest tables
    first_appendix = ids.index("run")
    early = [t for t in page.tables if ids.index(t.section) < first_appendix]
    assert not any("fingerprint" in t.head or "settings" in t.head for t in early)


def test_no_raw_json_anywhere(html):
    assert '{"' not in html and "{&#34;" not in html and "[&#34;" not in html


def test_summary_names_model_panel_constitution_and_worst_group(
    demo_run,
    html,
    page,
    metrics,
):
    summary = html[html.index('id="summary"') : html.index('id="evaluation"')]
    assert "SmolLM2-135M-Instruct · 134.5 M parameters · licence Apache-2.0 · sha256 abababab" in (
        summary
    )
    panel = json.loads((demo_run / "panel" / "report.json").read_text())
    assert f"{panel['k']} members of {panel['pool_size']} volunteers" in summary
    import yaml

    n_clauses = len(
        yaml.safe_load((demo_run / "constitution" / "constitution.yaml").read_text())["clauses"]
    )
    assert f"Constitution</b>{n_clauses} clause" in summary
    for subset in ("all", "consensus", "divisive"):
        worst = _worst(metrics, subset, "group")
        name = f"group {worst['group']}" if worst["group"].isdigit() else worst["group"]
        before, after = worst["before"]["estimate"], worst["after"]["estimate"]
        assert f"{name}: {before:.2f} → {after:.2f}" in summary, subset
    implicit = next(o for o in metrics["overall"] if o["subset"] == "all")["implicit"]
    assert f"implicit reward {implicit['estimate']:.2f} [" in summary
    table = page.table("summary", "Accuracy before → after training, per opinion group")
    assert table.head == ["opinion group", "all", "consensus", "divisive"]
    afters = [_after(r[1].text) for r in table.rows()]
    assert afters == sorted(afters)  # worst first
    for col, subset in ((1, "all"), (2, "consensus"), (3, "divisive")):
        marked = [r[0].text for r in table.rows() if "worst" in r[col].cls]
        worst = _worst(metrics, subset, "group")["group"]
        assert marked == [f"group {worst}" if worst.isdigit() else worst], subset


def test_every_per_group_table_is_worst_first(page, metrics):
    tables = [t for t in page.tables if t.section == "evaluation" and t.caption.startswith("By ")]
    groupings = metrics["settings"]["groupings"]
    assert len(tables) == len(groupings)
    assert sum(t.in_details for t in tables) == sum(g.startswith("demographic:") for g in groupings)
    subsets = {g["subset"] for g in metrics["groups"]}
    assert {"new-wording", "unseen-statement"} <= subsets  # the held-out parts have tables
    for table, grouping in zip(tables, groupings, strict=True):
        # before is the base model's own preference (a measurement), implicit reward beside
        assert table.head == ["group", "before", "after", "change", "implicit"]
        for body in table.bodies:
            heading, rows = body[0][0].text, body[1:]
            afters = [float(r[2].text) for r in rows]
            assert all(r[1].sub.startswith("[") or "small-n" in r[1].cls for r in rows)
            assert afters == sorted(afters), (grouping, heading)
            # the heading names the subset by its label (held-out parts included), e.g.
            # "consensus prompts: statements never trained on"; the longest label that fits
            subset = max(
                (k for k in subsets if heading.startswith(subset_label(k))),
                key=lambda k: len(subset_label(k)),
            )
            expected = [
                g for g in metrics["groups"] if (g["subset"], g["grouping"]) == (subset, grouping)
            ]
            assert len(rows) == len(expected)
            if len(rows) >= 2:
                assert rows[0][0].badge == "worst"
                assert all(not r[0].badge for r in rows[1:])
                worst = _worst(metrics, subset, grouping)["group"]
                assert rows[0][0].text.removeprefix("group ") == worst
    # one figure per subset and grouping (the folded demographic ones have tables only)
    alts = [a for s, a in page.images if s == "evaluation"]
    assert len(alts) == sum(
        len({g["subset"] for g in metrics["groups"] if g["grouping"] == x})
        for x in groupings
        if not x.startswith("demographic:")
    )
    assert all(a.endswith("worst first") for a in alts)


def test_groups_too_small_for_an_interval_are_marked(demo_copy):
    # one participant gives every pair of a new group "solo": a point interval however many pairs
    import numpy as np

    from pluralign.evaluate import evaluate_margins
    from pluralign.io import sha256_file

    heldout = demo_copy / "data" / "heldout.jsonl"
    rows = [json.loads(x) for x in heldout.read_text().splitlines()]
    solo = [r for r in rows if r["group"] == "0"][:6]
    person = solo[0]["provenance"]["participant"]
    for r in solo:
        r["group"], r["provenance"]["participant"] = "solo", person
    heldout.write_text("".join(json.dumps(r) + "\n" for r in rows))
    margins = np.asarray([1.0 if i % 3 else -1.0 for i in range(len(rows))])
    res = evaluate_margins(
        rows,
        np.zeros(len(rows)),
        margins,
        n_boot=60,
        groupings=["group"],
        provenance={"inputs": {"data": {"path": str(heldout), "sha256": sha256_file(heldout)}}},
    )
    (demo_copy / "evaluate" / "metrics.json").write_text(res.to_json())
    page = read_page(_evaluation_only(demo_copy))
    table = page.table("evaluation", "By opinion group")
    everyone = table.bodies[0][1:]  # all prompts (after its heading row)
    solo_row = next(r for r in everyone if r[0].text == "solo")
    assert solo_row[0].sub == "6 pairs\n1 person"
    assert solo_row[1].sub == "no interval" and "small-n" in solo_row[1].cls
    assert "small-n" in solo_row[0].cls

    def people(row):
        return int(row[0].sub.split("\n")[1].split()[0])

    big = [r for r in everyone if r[0].text != "solo" and people(r) >= 5]
    assert big and all("small-n" not in r[1].cls and r[1].sub.startswith("[") for r in big)
    few = [r for r in everyone if 1 < people(r) < 5]
    assert all("small-n" in r[1].cls for r in few)
    # without the held-out file the report falls back to the metrics alone (their units count)
    heldout.unlink()
    page = read_page(_evaluation_only(demo_copy))
    solo_row = next(
        r for r in page.table("evaluation", "By opinion group").bodies[0][1:] if r[0].text == "solo"
    )
    assert solo_row[1].sub == "no interval" and solo_row[0].sub == "6 pairs\n1 person"


def _evaluation_only(run) -> str:
    from pluralign.report.sections import evaluation_section

    return render_report(run, sections=[evaluation_section(run)])


def test_a_before_that_is_a_tie_by_construction_is_said_so(demo_copy):
    # older runs: implicit margins, so before is the base against itself (0.5 on every pair)
    from report_fixtures import heldout_rows, write_metrics

    write_metrics(demo_copy, heldout_rows(demo_copy), "implicit")
    html = render_report(demo_copy)
    page = read_page(html)
    table = page.table("evaluation", "By opinion group")
    assert table.head == ["group", "after", "change"]
    assert "every group is at 0.50: a tie by construction" in table.caption
    overall = page.table("evaluation", "All groups together")
    assert overall.head == ["prompts", "before", "after", "change"]
    assert {r[1].text for r in overall.rows()} == {"0.50"} and all(
        r[1].sub == "" for r in overall.rows()
    )
    summary = html[html.index('id="summary"') : html.index('id="evaluation"')]
    assert "is 0.5 by construction here" in summary and "implicit reward" not in summary


def test_generations_side_by_side(page, html, demo_run):
    items = [
        json.loads(x)
        for x in (demo_run / "evaluate" / "generations.jsonl").read_text().splitlines()
    ]
    assert len(page.gens) == len(items) == 30
    assert sum(g["in_details"] for g in page.gens) == 30 - 24  # the rest behind a fold
    for g, item in zip(page.gens, items, strict=True):
        assert g["prompt"] == item["prompt"]
        assert g["before"] == item["before"] and g["after"] == item["after"]
        assert g["same"] == (item["before"] == item["after"])
    assert "Before &lt;b&gt;0&lt;/b&gt; &amp; after" in html  # model text is escaped
    import yaml

    c1 = yaml.safe_load((demo_run / "constitution" / "constitution.yaml").read_text())["clauses"][0]
    assert c1["id"] == "c1"
    for g, item in zip(page.gens, items, strict=True):  # what is known about each prompt
        assert f"{item['pairs']} held-out pair" in g["tags"]
        assert ("clause c1: " + c1["text"][:40] in g["tags"]) == (item["clause"] == "c1")
        assert g["tags"].startswith(item["kind"])
    facts = page.table("generations", "")
    assert ["answers that changed", "24 of 30 (80%)"] in [[c.text for c in r] for r in facts.rows()]


def test_appendix_lists_stage_manifests_in_pipeline_order(page, demo_run):
    table = page.table("run", "Stages in pipeline order")
    stages = [r[0].text for r in table.rows()]
    assert stages == [
        "simulate",
        "store",
        "summary",
        "panel",
        "aggregate",
        "constitution",
        "data",
        "moral_graph",
    ]
    summaries = [s for sec, s in page.details if sec == "run"]
    assert summaries[: len(stages)] == [f"{s}: settings, inputs and outputs" for s in stages]
    assert "Configuration of the run (pipeline.json)" in summaries


def test_pipeline_order_follows_what_each_stage_read():
    from pluralign.report.sections.appendix import pipeline_order

    def m(name, *reads, started=""):
        return {
            "stage": name,
            "inputs": {f"stage:{r}": {"sha256": "x"} for r in reads},
            "started": started,
        }

    # a real-input run: model before synth before data (unlike the simulated one)
    found = [
        m("data", "synth"),
        m("train", "data", "model"),
        m("synth", "constitution", "model"),
        m("model", "aggregate", "constitution"),
        m("constitution", "aggregate"),
        m("aggregate"),
        m("report", "train", "data"),
        m("custom", started="2026"),
    ]
    order = [x["stage"] for x in pipeline_order(found)]
    assert order == [
        "aggregate",
        "constitution",
        "model",
        "synth",
        "data",
        "train",
        "report",
        "custom",
    ]


def test_moral_graph_tables_show_names_not_ids(page):
    upgrades = page.table("moral-graph", "Upgrades per context, strongest first")
    assert upgrades.head == ["from", "to (judged wiser)", "wiser likelihood"]
    contexts = [b[0][0].text for b in upgrades.bodies]
    assert contexts == sorted(contexts) and all("-" not in c for c in contexts)
    rows = [r for b in upgrades.bodies for r in b[1:]]
    for body in upgrades.bodies:  # strongest first within each context
        strength = [float(r[2].text) for r in body[1:]]
        assert strength == sorted(strength, reverse=True)
    names = {r[0].text for r in rows} | {r[1].text for r in rows}
    assert names and not any(n.isdigit() or n.startswith("value ") for n in names)
    winners = page.table("moral-graph", "Winning value per context")
    assert all(not r[1].text.isdigit() for r in winners.rows())
    values = page.table("moral-graph", "Values")
    assert values.head == ["value", "pageRank"] and all(r[0].sub for r in values.rows())


def test_older_run_folders_still_render(demo_copy):
    # what a run written before the model card, generations and config files looks like
    (demo_copy / "model" / "model.json").write_text(json.dumps({"base": "tiny", "path": "x"}))
    for name in (
        "evaluate/generations.jsonl",
        "pipeline.json",
        "manifest.json",
        "train/train_manifest.json",
    ):
        (demo_copy / name).unlink()
    shutil.rmtree(demo_copy / "moral_graph")
    html = render_report(demo_copy)
    page = read_page(html)
    assert "generations" not in page.section_ids() and "moral-graph" not in page.section_ids()
    assert "tiny random Llama (built for this run) · parameters, licence, sha256 not recorded" in (
        html
    )
    assert page.section_ids()[0] == "summary"
    # each stage folder alone, with the rest of the run gone, still gives a report
    for keep in ("aggregate", "constitution", "data", "evaluate"):
        part = demo_copy.parent / f"only-{keep}"
        shutil.copytree(demo_copy / keep, part / keep)
        assert read_page(render_report(part)).section_ids()[-1] == "glossary", keep


def test_bad_generations_line_names_file_and_line(demo_copy):
    path = demo_copy / "evaluate" / "generations.jsonl"
    lines = path.read_text().splitlines()
    lines[2] = json.dumps({"prompt": "p", "before": "b"})
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"generations.jsonl, line 3.*after"):
        generations_section(demo_copy)
    path.write_text('{"prompt": "p", "before": "b", "after": "a"}\n{oops\n')
    with pytest.raises(InputError, match=r"generations.jsonl, line 2"):
        generations_section(demo_copy)


def test_clause_groups_are_named_by_their_text(demo_copy):
    # synthesised pairs speak for a clause, not an opinion group: the groups are clause ids
    import yaml

    metrics_path = demo_copy / "evaluate" / "metrics.json"
    m = json.loads(metrics_path.read_text())
    ids = {"0": "c1", "1": "c2", "2": "c3", "3": "c4", "unclustered": "c5"}
    for part in ("groups", "gaps"):
        m[part] = [dict(g, grouping="clause") for g in m[part] if g["grouping"] == "group"]
    for g in m["groups"]:
        g["group"] = ids[g["group"]]
    m["settings"]["groupings"] = ["clause"]
    metrics_path.write_text(json.dumps(m))
    texts = {
        c["id"]: c["text"]
        for c in yaml.safe_load((demo_copy / "constitution" / "constitution.yaml").read_text())[
            "clauses"
        ]
    }
    html = render_report(demo_copy)
    page = read_page(html)
    table = page.table("evaluation", "By clause")
    for row in table.bodies[0][1:]:
        text = texts[row[0].text]
        shown = text if len(text) <= 60 else text[:59].rstrip() + "…"
        assert row[0].sub.split("\n")[0] == shown
    head = page.table("summary", "Accuracy before → after training, per clause")
    assert head.head[0] == "clause" and len(head.rows()) == 5
