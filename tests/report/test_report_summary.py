"""The grounded summary in the report: the demo's constitution stage writes summary.json beside
the constitution (templates, no LLM), and the report shows its sentences, each marked grounded,
with the share grounded; a tampered summary shows what failed."""

from __future__ import annotations

import json
import re

import pytest
from report_html import read_page

from pluralign.errors import InputError
from pluralign.report import render_report
from pluralign.report.sections import summary_section

pytest_plugins = ["report_fixtures"]  # demo_run, demo_copy: run folders of the demo's stages


def test_the_demo_summary_is_a_section(demo_run):
    data = json.loads((demo_run / "constitution" / "summary.json").read_text())
    sentences = [x for t in data["topics"] for x in t["sentences"]]
    assert sentences and all(x["grounded"] for x in sentences)
    page = read_page(render_report(demo_run))
    assert "summary" in page.section_ids()
    rows = page.table("summary", "Sentences by topic").rows()
    assert len(rows) == len(sentences)
    assert {r[4].text for r in rows} == {"yes"}
    assert all(re.match(r"#\d+: group \d", r[3].text) for r in rows)
    texts = {r[2].text for r in rows}
    assert all(x["text"] in texts for x in sentences)
    facts = summary_section(demo_run).blocks[0]
    assert "100% of" in str(facts) and "not reworded" in str(facts)


def test_a_summary_that_fails_its_check_says_so(demo_copy):
    path = demo_copy / "constitution" / "summary.json"
    data = json.loads(path.read_text())
    first = next(x for t in data["topics"] for x in t["sentences"])
    first["grounded"] = False
    first["problems"] = ["#3: group 0's share is 41 %, the sentence says 91 %"]
    path.write_text(json.dumps(data))
    page = read_page(render_report(demo_copy))
    rows = page.table("summary", "Sentences by topic").rows()
    assert any(r[4].text.startswith("no: #3: group 0") for r in rows)
    path.write_text(json.dumps({"topics": "oops"}))
    with pytest.raises(InputError, match="summary.json"):
        summary_section(demo_copy)
