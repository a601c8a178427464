"""The results page shows the grounded summary: per topic, common ground (quoting the statements,
citing each group's agree share) and the share of sentences that passed the check."""

from __future__ import annotations

import re

import pytest
from web_helpers import client, create_assembly, join, make_app, vote_current

SLUG = "ai-rules"


@pytest.fixture
def app_store(tmp_path):
    app, store = make_app(f"sqlite:///{tmp_path / 'summary.db'}")
    yield app, store
    store.dispose()


def test_results_page_summarises_with_the_grounded_share(app_store):
    app, _store = app_store
    admin = client(app)
    create_assembly(admin, min_votes=2)
    for _ in range(24):  # everyone agrees with every statement: common ground everywhere
        p = client(app)
        r = join(p)
        for _ in range(4):
            r = vote_current(p, r.text, value=1)
            if 'name="statement"' not in r.text:
                break
    page = admin.get(f"/admin/a/{SLUG}/results").text
    assert 'id="summary"' in page
    grounded = re.search(r'id="summary-grounded">([^<]*)<', page)
    assert grounded and "100% of" in grounded.group(1) and "at least 20 votes" in grounded.group(1)
    items = re.findall(r'<ul class="summary">(.*?)</ul>', page, re.S)
    sentences = [s for block in items for s in re.findall(r"<li>(.*?)</li>", block, re.S)]
    assert sentences and all(re.search(r"\(#\d+: group \d+ \d+ ?% agree", s) for s in sentences)
    assert any("AI should be honest" in s for s in sentences)
