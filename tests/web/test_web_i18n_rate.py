"""The public evaluation in a second language: a German participant rates the two models on a
German page, and the rating is stored like any other."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for sub in ("publiceval", "llm"):
    if str(TESTS / sub) not in sys.path:
        sys.path.insert(0, str(TESTS / sub))

from conftest_llm import Script, ServerThread, scripted_app  # noqa: E402
from public_eval_kit import (  # noqa: E402
    client,
    create_assembly,
    join,
    make_app,
    rate,
    scripted_answers,
    setup_eval,
)


def test_german_participant_rates_on_a_german_page(db_url):
    from sqlalchemy import select

    from pluralign.publiceval.models import PublicEvalImpression

    script = Script()
    scripted_answers(script)
    app, store = make_app(db_url)
    with ServerThread(scripted_app(script)) as srv:
        admin = client(app)
        setup_eval(admin, create_assembly(admin), srv.base_url)
    c = client(app)
    c.headers["Accept-Language"] = "de-CH, de;q=0.9"
    join(c)
    r, impression, page = rate(c, "neither")
    assert "Welche Antwort folgt dem Grundsatz besser?" in page and "Keine von beiden" in page
    assert r.status_code == 200 and "Danke, gespeichert." in r.text
    with store.session() as s:
        rows = s.scalars(select(PublicEvalImpression)).all()
        rated = [(r.id, r.choice) for r in rows if r.choice is not None]
        assert rated == [(impression, "neither")]  # the next comparison is shown, not rated
    store.dispose()
