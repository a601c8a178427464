"""Wording and menus of the pages (issue 14, defect 11), in-process: spaces between sentences,
plural forms in English and German, one participant menu that shows only what can be used, the
organiser links a moderator may follow, the cards on the moral-graph page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from web_helpers import client, create_assembly, csrf_of, join, login, make_app, vote_current

from pluralign.moralgraph import service as mg
from pluralign.moralgraph.dialogue import card_from_form
from pluralign.plugins import hookimpl
from pluralign.store.queries import get_assembly

SLUG = "ai-rules"


class _Text(HTMLParser):
    """The text a browser shows: tags dropped, whitespace collapsed (scripts/titles skipped)."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style", "title", "head")
        if tag in ("p", "li", "div", "h1", "h2", "h3", "td", "th", "br", "option"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style", "title", "head")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(" ".join(line.split()) for line in "".join(parser.parts).split("\n"))


@pytest.fixture
def app_store(tmp_path):
    app, store = make_app(f"sqlite:///{tmp_path / 'ui.db'}")
    yield app, store
    store.dispose()


def test_sentences_are_spaced(app_store):
    app, _store = app_store
    admin = client(app)
    create_assembly(admin, open_it=False, min_votes=3)
    page = text(admin.get(f"/admin/a/{SLUG}").text)
    assert "State: draft · participant link: /a/ai-rules" in page
    token = csrf_of(admin.get(f"/admin/a/{SLUG}").text)
    admin.post(
        f"/admin/a/{SLUG}/settings",
        data={"csrf": token, "topic": "T", "closes_at": "2031-05-06T07:08", "min_votes": "3"},
    )
    page = text(admin.get(f"/admin/a/{SLUG}").text)
    assert "State: draft · closes 2031-05-06 07:08 UTC · participant link" in page
    results = text(admin.get(f"/admin/a/{SLUG}/results").text)
    assert "Not enough votes yet to form opinion groups." in results and " ." not in results
    admin.post(f"/admin/a/{SLUG}/state", data={"csrf": token, "state": "open"})
    p = client(app)
    r = join(p)
    card = vote_current(p, r.text, **{"HX-Request": "true"})
    assert "You have voted on 1 statement. The opinion map opens after 3 votes." in text(card.text)


def _german(c):
    page = c.get("/")
    c.post("/lang", data={"csrf": csrf_of(page.text), "lang": "de", "next": "/"})


def test_plurals_in_english_and_german(app_store):
    app, store = app_store
    admin = client(app)
    create_assembly(admin, seeds=("Only one statement",), min_votes=1)
    p = client(app)
    r = join(p)
    vote_current(p, r.text)
    with store.session() as s:
        a = get_assembly(s, SLUG)
        mg.add_context(s, a.id, "distress")
        mg.submit_card(
            s, a.id, card_from_form("Presence", "Be there.", "X"), context_key="distress"
        )
    counts = text(admin.get(f"/admin/a/{SLUG}/counts").text)
    assert "1 participant\n" in counts + "\n" and "1 vote\n" in counts and "1 statement" in counts
    graph = text(admin.get(f"/admin/a/{SLUG}/moralgraph").text)
    assert "0 upgrade votes · 1 values card · 0 edges (all contexts)" in graph
    results = text(admin.get(f"/admin/a/{SLUG}/results").text)
    assert "1 vote. 1 participant in the conversation" in results and "is on the map" in results
    assert "Group 1 · 1 participant" in results
    me = text(p.get(f"/a/{SLUG}/map").text)
    assert "Group 1 · 1 person" in me and "so far on your own" in me and "0 other" not in me
    _german(admin)
    _german(p)
    graph = text(admin.get(f"/admin/a/{SLUG}/moralgraph").text)
    assert "0 Upgrade-Stimmen · 1 Wertekarte · 0 Kanten (alle Kontexte)" in graph
    assert "1 teilnehmende Person" in text(admin.get(f"/admin/a/{SLUG}/counts").text)
    me = text(p.get(f"/a/{SLUG}/map").text)
    assert "Gruppe 1 · 1 Person" in me and "bisher als einzige Person" in me


def _menu(html: str) -> list[str]:
    nav = html.split('aria-label="Assembly"')[1].split("</nav>")[0]
    return re.findall(r'id="nav-([a-z]+)"', nav)


def test_one_participant_menu_showing_what_can_be_used(app_store):
    app, store = app_store
    admin = client(app)
    token = create_assembly(admin)
    p = client(app)
    join(p)
    base = ["vote", "propose", "map", "withdraw"]
    for path in ("vote", "propose", "map", "withdraw", "values", "upgrades", "rate"):
        assert _menu(p.get(f"/a/{SLUG}/{path}").text) == base, path  # no dead ends either
    assert _menu(p.get(f"/a/{SLUG}").text) == base  # the welcome page of a participant
    r = admin.post(f"/admin/a/{SLUG}/moralgraph/contexts", data={"csrf": token, "key": "c"})
    assert r.status_code == 200
    admin.post(
        f"/admin/a/{SLUG}/moralgraph/cases",
        data={"csrf": token, "key": "k", "prompt": "p", "contexts": ["c"]},
    )
    full = ["vote", "propose", "map", "values", "upgrades", "withdraw"]
    for path in ("vote", "values", "upgrades"):
        html = p.get(f"/a/{SLUG}/{path}").text
        assert _menu(html) == full, path
        assert f'href="/a/{SLUG}/{path}" id="nav-{path}" aria-current="page"' in html


def test_rate_link_only_while_the_evaluation_is_open(app_store):
    from pluralign.publiceval.models import OPEN, PublicEval

    app, store = app_store
    admin = client(app)
    create_assembly(admin)
    p = client(app)
    join(p)
    assert "rate" not in _menu(p.get(f"/a/{SLUG}/vote").text)
    with store.session() as s:
        s.add(
            PublicEval(
                assembly_id=get_assembly(s, SLUG).id,
                state=OPEN,
                model_a={},
                model_b={},
                settings={},
            )
        )
    from pluralign.web import menu

    menu.forget(store)
    assert "rate" in _menu(p.get(f"/a/{SLUG}/vote").text)
    status = text(admin.get(f"/admin/a/{SLUG}/public-eval").text)
    assert "0 clauses · 0 ratings. Participants rate at /a/ai-rules/rate." in status


class _PollsMenu:
    """An outside feature adding a menu link through the ``participant_menu`` hook."""

    def __init__(self):
        self.open = False

    @hookimpl
    def participant_menu(self):
        from pluralign.errors import N_
        from pluralign.web.menu import MenuFeature, MenuLink

        return [MenuFeature("polls", (MenuLink("polls", "polls", N_("Polls")),),
                            lambda session, assembly_id: self.open)]


def test_a_feature_adds_its_link_to_the_menu_through_the_hook(app_store):
    from pluralign import plugins
    from pluralign.web import menu

    app, store = app_store
    create_assembly(client(app))
    p = client(app)
    join(p)
    plugin = _PollsMenu()
    plugins.plugin_manager().register(plugin, name="test-polls-menu")
    try:
        menu.forget(store)
        assert _menu(p.get(f"/a/{SLUG}/vote").text) == ["vote", "propose", "map", "withdraw"]
        plugin.open = True
        menu.forget(store)
        html = p.get(f"/a/{SLUG}/vote").text
        assert _menu(html) == ["vote", "propose", "map", "polls", "withdraw"]  # before withdraw
        assert f'href="/a/{SLUG}/polls" id="nav-polls">Polls</a>' in html
    finally:
        plugins.plugin_manager().unregister(name="test-polls-menu")
        menu.forget(store)


def test_moderators_see_only_links_they_may_follow(app_store):
    app, _store = app_store
    create_assembly(client(app))
    mod = client(app)
    login(mod, "mod")
    page = mod.get(f"/admin/a/{SLUG}").text
    links = re.findall(r'href="(/admin/a/[^"?#]+)"', page)
    assert links and f"/admin/a/{SLUG}/translations" not in links
    for link in links:
        assert mod.get(link, follow_redirects=False).status_code == 200, link


def test_admin_moral_graph_page_lists_the_cards(app_store):
    app, store = app_store
    admin = client(app)
    create_assembly(admin, seeds=())
    p = client(app)
    join(p)
    with store.session() as s:
        a = get_assembly(s, SLUG)
        mg.add_context(s, a.id, "distress", "When the user is in distress")
        mg.add_case(s, a.id, "panic", "Panic", "I can't breathe", ["distress"])
    page = p.get(f"/a/{SLUG}/values/case/1")
    p.post(
        f"/a/{SLUG}/values/case/1/card",
        data={
            "csrf": csrf_of(page.text),
            "title": "Grounded presence",
            "description": "Stay calm.",
            "policies": "BREATH the user can slow\nPEOPLE nearby",
            "context": "distress",
            "transcript": "",
        },
    )
    html = admin.get(f"/admin/a/{SLUG}/moralgraph").text
    cards = text(html.split('id="cards"')[1].split("</table>")[0])
    assert "Grounded presence: Stay calm." in cards and "BREATH the user can slow" in cards
    assert "participant 1" in cards and "distress" in cards


def test_plural_group_sizes(app_store):
    """The count decides the form even when another number (the group's) comes first."""
    from web_helpers import field

    app, _store = app_store
    admin = client(app)
    create_assembly(admin, min_votes=3)
    people = []
    for i in range(8):
        c = client(app)
        r = join(c)
        while field(r.text, "statement") is not None:
            number = int(field(r.text, "statement"))
            r = vote_current(c, r.text, value=1 if (number < 2) == (i < 4) else -1)
        people.append(c)
    results = text(admin.get(f"/admin/a/{SLUG}/results").text)
    assert "Group 1 · 4 participants" in results and "Group 2 · 4 participants" in results
    me = text(people[0].get(f"/a/{SLUG}/map").text)
    assert "Group 1 · 4 people" in me and "with 3 other people" in me
    _german(people[0])
    assert "Gruppe 1 · 4 Personen" in text(people[0].get(f"/a/{SLUG}/map").text)


def test_statement_settings_and_the_moderation_log(app_store):
    import csv
    import io

    app, store = app_store
    admin = client(app)
    token = create_assembly(admin)
    for bad, where in (
        ({"max_statement_chars": "5"}, "max_statement_chars"),
        ({"routing": "fewest"}, "routing"),
    ):
        r = admin.post(f"/admin/a/{SLUG}/settings", data={"csrf": token, "topic": "T", **bad})
        assert r.status_code == 400 and where in r.text
    r = admin.post(
        f"/admin/a/{SLUG}/settings",
        data={
            "csrf": token,
            "topic": "T",
            "max_statement_chars": "50",
            "routing": "random",
            "seed_first": "yes",
        },
    )
    assert r.status_code == 200 and 'id="routing-random" checked' in r.text
    with store.session() as s:
        settings = get_assembly(s, SLUG).settings
    assert (settings["max_statement_chars"], settings["routing"], settings["seed_first"]) == (
        50,
        "random",
        True,
    )
    p = client(app)
    join(p)
    page = p.get(f"/a/{SLUG}/propose")
    assert 'maxlength="50"' in page.text
    r = p.post(f"/a/{SLUG}/propose", data={"csrf": csrf_of(page.text), "text": "x" * 51})
    assert r.status_code == 400 and "under 50 characters" in r.text
    for text_ in ("A first idea", "=HYPERLINK(1) second idea"):
        p.post(f"/a/{SLUG}/propose", data={"csrf": csrf_of(page.text), "text": text_})
    mod = client(app)
    mod_token = login(mod, "mod")
    for number, decision in ((4, "accepted"), (5, "rejected"), (4, "rejected")):
        mod.post(
            f"/admin/a/{SLUG}/statements/{number}/moderate",
            data={"csrf": mod_token, "decision": decision},
        )
    assert "by mod," in text(mod.get(f"/admin/a/{SLUG}/moderation").text)
    assert (
        mod.get(f"/admin/a/{SLUG}/moderation/log.csv", follow_redirects=False).status_code == 403
    )  # an export: admins only
    r = admin.get(f"/admin/a/{SLUG}/moderation/log.csv")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [
        (x["statement"], x["text"], x["moderator"], x["role"], x["previous"], x["decision"])
        for x in rows
    ] == [
        ("4", "A first idea", "mod", "moderator", "pending", "accepted"),
        ("5", "'=HYPERLINK(1) second idea", "mod", "moderator", "pending", "rejected"),
        ("4", "A first idea", "mod", "moderator", "accepted", "rejected"),
    ]
    assert all(x["time_utc"].endswith("+00:00") for x in rows)
