"""Moral-graph pages: organiser sets up contexts and cases, participants write cards (form and
scripted chat) and judge upgrades, the organiser sees the graph and exports it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from web_helpers import client, create_assembly, csrf_of, field, join, make_app  # noqa: E402

SLUG = "ai-rules"


@pytest.fixture
def app_store(db_url):
    app, store = make_app(db_url)
    yield app, store
    store.dispose()


def setup_graph(admin, token):
    r = admin.post(f"/admin/a/{SLUG}/moralgraph/contexts",
                   data={"csrf": token, "key": "distress",
                         "description": "When the user is in distress"})
    assert r.status_code == 200 and "When the user is in distress" in r.text
    r = admin.post(f"/admin/a/{SLUG}/moralgraph/cases",
                   data={"csrf": token, "key": "panic", "title": "Panic at night",
                         "prompt": "I can't breathe and it's 3am", "contexts": ["distress"]})
    assert r.status_code == 200 and "Panic at night" in r.text


def write_card(c, title, policies="FEELINGS the user names\nMOMENTS to listen"):
    page = c.get(f"/a/{SLUG}/values")
    assert "Panic at night" in page.text
    page = c.get(f"/a/{SLUG}/values/case/1")
    assert "I can&#39;t breathe" in page.text and 'id="send-message"' not in page.text
    r = c.post(f"/a/{SLUG}/values/case/1/card", data={
        "csrf": csrf_of(page.text), "title": title, "description": f"{title} matters.",
        "policies": policies, "context": "distress", "transcript": ""})
    assert r.status_code == 200 and 'id="card-saved"' in r.text and title in r.text


def answer(c, wiser_title):
    """Answer the current story: 'upgrade' when it moves to ``wiser_title``, else 'no_upgrade'."""
    page = c.get(f"/a/{SLUG}/upgrades")
    if 'id="no-stories"' in page.text:
        return False
    to_title = page.text.split('id="to-title">')[1].split("<")[0]
    rel = "upgrade" if to_title == wiser_title else "no_upgrade"
    r = c.post(f"/a/{SLUG}/upgrades", data={
        "csrf": csrf_of(page.text), "from_id": field(page.text, "from_id"),
        "to_id": field(page.text, "to_id"), "context_id": field(page.text, "context_id"),
        "story": "s", "relationship": rel})
    assert r.status_code == 200
    return True


def test_whole_flow_form_votes_graph_export(app_store):
    app, _ = app_store
    admin = client(app)
    token = create_assembly(admin, seeds=())
    setup_graph(admin, token)
    people = [client(app) for _ in range(3)]
    for p in people:
        join(p)
    write_card(people[0], "Quick Fixes")
    write_card(people[1], "Grounded Agency")
    write_card(people[2], "Emotional Presence")
    # everyone judges every pair; the truth: Quick Fixes < Emotional Presence < Grounded Agency
    order = {"Quick Fixes": 0, "Emotional Presence": 1, "Grounded Agency": 2}
    for p in people:
        for _ in range(3):
            page = p.get(f"/a/{SLUG}/upgrades")
            frm = page.text.split('id="from-title">')[1].split("<")[0]
            to = page.text.split('id="to-title">')[1].split("<")[0]
            assert answer(p, to if order[to] > order[frm] else None)
        assert not answer(p, None)
    page = admin.get(f"/admin/a/{SLUG}/moralgraph")
    assert page.status_code == 200
    assert "9 upgrade votes" in page.text and "<svg" in page.text
    winners = page.text.split('id="winners"')[1].split("</table>")[0]
    assert "Grounded Agency" in winners
    page = admin.get(f"/admin/a/{SLUG}/moralgraph?context=distress")
    assert "<circle" in page.text
    export = admin.get(f"/admin/a/{SLUG}/moralgraph/graph.json")
    assert export.headers["content-type"].startswith("application/json")
    data = json.loads(export.text)
    assert data["pluralign"]["contexts"][0]["id"] == "distress"
    top = max(data["values"], key=lambda v: v["pageRank"])
    assert top["title"] == "Grounded Agency"


def test_form_errors_and_admin_errors(app_store):
    app, _ = app_store
    admin = client(app)
    token = create_assembly(admin, seeds=())
    setup_graph(admin, token)
    r = admin.post(f"/admin/a/{SLUG}/moralgraph/contexts",
                   data={"csrf": token, "key": "distress"})
    assert r.status_code == 400 and "exists already" in r.text
    r = admin.post(f"/admin/a/{SLUG}/moralgraph/cases",
                   data={"csrf": token, "key": "x", "prompt": "p", "contexts": ["nope"]})
    assert r.status_code == 404 and "no context" in r.text
    p = client(app)
    join(p)
    page = p.get(f"/a/{SLUG}/values/case/1")
    r = p.post(f"/a/{SLUG}/values/case/1/card", data={
        "csrf": csrf_of(page.text), "title": "T", "description": "D", "policies": " ",
        "transcript": ""})
    assert r.status_code == 400 and "policies" in r.text and 'value="T"' in r.text
    r = p.post(f"/a/{SLUG}/values/case/1/card", data={
        "csrf": csrf_of(page.text), "title": "T", "description": "D", "policies": "A",
        "transcript": "{not json"})
    assert r.status_code == 400 and "transcript" in r.text
    assert p.get(f"/a/{SLUG}/values/case/99").status_code == 404
    assert 'id="no-stories"' in p.get(f"/a/{SLUG}/upgrades").text
    r = p.post(f"/a/{SLUG}/upgrades", data={"csrf": csrf_of(page.text), "from_id": "x"})
    assert r.status_code == 400
    # the chat is off without a model
    r = p.post(f"/a/{SLUG}/values/case/1/chat", data={
        "csrf": csrf_of(page.text), "message": "hi", "transcript": ""})
    assert "not available" in r.text


class Scripted:
    def __init__(self, *answers):
        self.answers = list(answers)

    def __call__(self, messages):
        return self.answers.pop(0)


def test_guided_chat_drafts_an_editable_card(app_store):
    app, store = app_store
    app.state.values_chat = Scripted(
        "What would you pay attention to first?",
        '{"title": "Emotional Presence", "description": "Staying with feelings first.", '
        '"policies": ["FEELINGS the user names", "MOMENTS to listen"]}')
    admin = client(app)
    setup_graph(admin, create_assembly(admin, seeds=()))
    p = client(app)
    join(p)
    page = p.get(f"/a/{SLUG}/values/case/1")
    assert 'id="send-message"' in page.text
    r = p.post(f"/a/{SLUG}/values/case/1/chat", data={
        "csrf": csrf_of(page.text), "action": "send", "message": "I'd listen first",
        "transcript": ""})
    assert "What would you pay attention to first?" in r.text and "I&#39;d listen first" in r.text
    transcript = field(r.text, "transcript")
    r = p.post(f"/a/{SLUG}/values/case/1/chat", data={
        "csrf": csrf_of(r.text), "action": "card", "transcript": transcript.replace(
            "&#34;", '"').replace("&#39;", "'")})
    assert 'value="Emotional Presence"' in r.text and "FEELINGS the user names" in r.text
    r = p.post(f"/a/{SLUG}/values/case/1/card", data={
        "csrf": csrf_of(r.text), "title": "Emotional Presence (edited)",
        "description": "Staying with feelings first.", "policies": "FEELINGS the user names",
        "context": "distress", "transcript": field(r.text, "transcript").replace(
            "&#34;", '"').replace("&#39;", "'")})
    assert r.status_code == 200 and "Emotional Presence (edited)" in r.text
    from sqlalchemy import select

    from pluralign.moralgraph.models import ValuesCardRow

    with store.session() as s:
        row = s.scalar(select(ValuesCardRow))
    assert [m["role"] for m in row.dialogue] == ["user", "assistant"]
