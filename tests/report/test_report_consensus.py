"""The report's consensus section lists the statements that pass the consensus rule first (the
rule the constitution drafts from and the web app's results page lists), then by GAC."""

from __future__ import annotations

from pluralign.report.sections import consensus_section


def test_rule_statements_first(tmp_path):
    (tmp_path / "aggregate").mkdir()
    (tmp_path / "aggregate" / "statements.csv").write_text(
        "statement,text,gac,cross_group_consensus\n"
        "1,Highest GAC but one group split,0.9,False\n"
        "2,Passes the rule,0.6,True\n"
        "3,Passes too,0.7,True\n"
        "4,Neither,0.1,False\n"
    )
    s = consensus_section(tmp_path)
    table = next(b for b in s.blocks if b["type"] == "table")
    texts = [row[0].text for row in table["rows"]]
    assert texts == ["Passes too", "Passes the rule", "Highest GAC but one group split", "Neither"]
    subs = [row[0].sub for row in table["rows"]]
    assert ["cross-group consensus" in x for x in subs] == [True, True, False, False]
    assert table["caption"].startswith("2 of 4 statements are cross-group consensus")


def test_without_the_rule_column_by_gac(tmp_path):
    (tmp_path / "aggregate").mkdir()
    (tmp_path / "aggregate" / "statements.csv").write_text(
        "statement,text,gac\n1,Low,0.1\n2,High,0.9\n"
    )
    table = next(b for b in consensus_section(tmp_path).blocks if b["type"] == "table")
    assert [row[0].text for row in table["rows"]] == ["High", "Low"]
    assert table["caption"] == "Top 2 of 2 statements by gac"
