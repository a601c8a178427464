"""Democratic Fine-Tuning moral-graph JSON: import, export, round trips, consistency checks."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.errors import InputError
from pluralign.moralgraph.dftjson import (
    check_document,
    document_from_json,
    document_to_json,
    read_graph_json,
    to_document,
    write_graph_json,
)
from pluralign.moralgraph.summary import summarize
from pluralign.moralgraph.types import Edge, ValuesCard

# The shape of moral-graph-elicitation's graph API output (values on included edges with pageRank,
# edges with counts and summary, demographics in the summary), with numbers computed by hand:
# 1→2: W=3, N=1, U=0, L=0, I=4 → likelihood 3/4, entropy of (3,1,0,0,4)/8.
THEIRS = {
    "values": [
        {"id": 1, "title": "Reassurance", "description": "Calming.", "policies": ["WORDS"],
         "embedding": [0.1, 0.2], "deliberationId": 7, "pageRank": 0.075},
        {"id": 2, "title": "Emotional Presence", "description": "Staying.",
         "policies": ["FEELINGS", "MOMENTS"], "pageRank": 0.13875},
    ],
    "edges": [
        {"sourceValueId": 1, "wiserValueId": 2, "contexts": ["When the user is in distress"],
         "counts": {"markedWiser": 3, "markedNotWiser": 1, "markedLessWise": 0,
                    "markedUnsure": 0, "impressions": 4},
         "summary": {"wiserLikelihood": 0.75, "entropy": 1.4056390622295665,
                     "demographics": {"mainUsPoliticalAffiliation": "Democrat"}}},
    ],
}

# Older DFT files: instructionsShort / evaluationCriteria and per-value votes.
OLD_DFT = {
    "values": [{"id": 5, "title": "T", "instructionsShort": "short", "instructionsDetailed": "long",
                "evaluationCriteria": ["A", "B"],
                "votes": {"all": {"votes": 3, "impressions": 4, "avg": 0.75, "confidence": 1}}}],
    "edges": [],
}


def test_import_their_json_and_export_unchanged():
    doc = document_from_json(copy.deepcopy(THEIRS))
    assert [v.title for v in doc.values] == ["Reassurance", "Emotional Presence"]
    assert doc.values[1].policies == ("FEELINGS", "MOMENTS")
    assert doc.page_rank == {1: 0.075, 2: 0.13875}
    e = doc.edges[0]
    assert (e.source, e.wiser, e.count("markedWiser"), e.count("impressions")) == (1, 2, 3, 4)
    assert document_to_json(doc) == THEIRS
    assert check_document(doc) == []


def test_old_dft_fields_map_and_round_trip():
    doc = document_from_json(copy.deepcopy(OLD_DFT))
    card = doc.values[0]
    assert card.description == "short" and card.policies == ("A", "B")
    assert document_to_json(doc) == OLD_DFT


def test_file_round_trip(tmp_path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps(THEIRS))
    doc = read_graph_json(path)
    write_graph_json(doc, tmp_path / "h.json")
    assert json.loads((tmp_path / "h.json").read_text()) == THEIRS
    assert read_graph_json(tmp_path / "h.json") == doc


def test_check_document_finds_tampering():
    bad = copy.deepcopy(THEIRS)
    bad["edges"][0]["summary"]["wiserLikelihood"] = 0.9
    bad["edges"][0]["counts"]["markedWiser"] = 1
    problems = check_document(document_from_json(bad))
    assert any("wiserLikelihood" in p for p in problems)
    assert any("entropy" in p for p in problems)
    assert any("thresholds" in p for p in problems)


@pytest.mark.parametrize("data, match", [
    ([], "needs 'values' and 'edges'"),
    ({"values": [{"title": "no id"}], "edges": []}, r"values\[0\].*'id'"),
    ({"values": [], "edges": [{"sourceValueId": 1}]}, r"edges\[0\].*wiserValueId"),
    ({"values": [], "edges": [{**THEIRS["edges"][0], "counts": {"markedWiser": "x"}}]},
     r"edges\[0\]"),
    ({"values": [{"id": 1, "policies": "not a list"}], "edges": []}, "policies"),
])
def test_malformed_json_is_named(data, match):
    with pytest.raises(InputError, match=match):
        document_from_json(data, "g.json")


def test_bad_file(tmp_path):
    path = tmp_path / "g.json"
    path.write_text('{"values": [\n1,,]}')
    with pytest.raises(InputError, match="line 2"):
        read_graph_json(path)
    with pytest.raises(InputError, match="not found"):
        read_graph_json(tmp_path / "missing.json")


def _graph(rows):
    edges = [Edge(f"u{i}", a, b, c, r) for i, (a, b, r, c) in enumerate(rows)]
    cards = [ValuesCard(id=v, title=f"value {v}", description="d", policies=("P",))
             for v in range(6)]
    return summarize(edges, cards)


rows_st = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from(["upgrade", "no_upgrade",
                                                                      "not_sure"]),
              st.sampled_from(["c1", "c2"])).filter(lambda t: t[0] != t[1]),
    max_size=50,
)


@settings(max_examples=40, deadline=None)
@given(rows_st, st.booleans())
def test_summary_export_import_round_trip(rows, all_edges):
    graph = _graph(rows)
    doc = to_document(graph, all_edges=all_edges, provenance={"seed": 1})
    data = json.loads(json.dumps(document_to_json(doc)))
    back = document_from_json(data)
    assert back == doc
    assert document_to_json(back) == data
    assert check_document(back) == []
    # values listed are exactly the endpoints of included edges, each with its PageRank
    ids = {v["id"] for v in data["values"]}
    assert ids == {x for e in data["edges"] for x in (e["sourceValueId"], e["wiserValueId"])}
    assert all(v["pageRank"] == pytest.approx(graph.page_rank[v["id"]]) for v in data["values"])
    assert back.winners() == graph.winners
    if all_edges:
        assert len(data["allEdges"]) == len(graph.pairs)
