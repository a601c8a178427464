"""Public evaluation in the assembly app, in-process (ASGI) on SQLite and PostgreSQL, with two
models served by a scripted OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest
from public_eval_kit import (
    SLUG,
    client,
    create_assembly,
    csrf_of,
    join,
    login,
    make_app,
    prompts_jsonl,
    rate,
    scripted_answers,
    setup_eval,
)

pytest_plugins = ["conftest_llm"]  # the scripted OpenAI-compatible server


@pytest.fixture
def app_store(db_url):
    app, store = make_app(db_url)
    yield app, store
    store.dispose()


ROOT = f"/admin/a/{SLUG}/public-eval"


def _admin(app, script):
    """The admin of a new assembly on ``app``; the scripted models answer with their names.
    Returns (admin client, CSRF token)."""
    scripted_answers(script)
    admin = client(app)
    return admin, create_assembly(admin)


def _attach_models(admin, token, base_url, **fields):
    """Post models 'base' (A) and 'tuned' (B) at ``base_url`` (``fields`` override); the
    response."""
    data = {"a_base_url": base_url, "a_model": "base", "b_base_url": base_url, "b_model": "tuned"}
    return admin.post(f"{ROOT}/models", data={"csrf": token, **data, **fields})


def _upload(admin, token, what, name, content: bytes, mime):
    """Upload ``content`` as the file of the ``what`` form (clauses, prompts); the response."""
    return admin.post(f"{ROOT}/{what}", data={"csrf": token}, files={"file": (name, content, mime)})


def _impressions(store):
    from sqlalchemy import select

    from pluralign.publiceval.models import PublicEvalImpression

    with store.session() as s:
        return s.scalars(select(PublicEvalImpression).order_by(PublicEvalImpression.id)).all()


def test_admin_sets_up_and_participants_rate(app_store, scripted, tmp_path):
    script, base_url = scripted
    app, store = app_store
    admin, token = _admin(app, script)
    setup_eval(admin, token, base_url)
    sent = len(script.seen)
    assert sent == 4  # 2 prompts x 2 models, once
    # generating again asks nothing: every prompt has its answers stored
    r = admin.post(f"{ROOT}/generate", data={"csrf": token})
    assert "0 prompts answered" in r.text and len(script.seen) == sent

    alice = client(app)
    join(alice)
    page = alice.get(f"/a/{SLUG}/rate")
    assert page.status_code == 200
    assert "[base]" in page.text and "[tuned]" in page.text
    # paragraphs and line breaks of the answers survive, their text is escaped
    assert page.text.count('<p class="answer">In short:<br>&lt;ok&gt;</p>') == 2
    assert page.text.index('id="answer-first"') < page.text.index('id="answer-second"')
    # a reload shows the same comparison in the same order (stored per impression)
    again = alice.get(f"/a/{SLUG}/rate")
    strip = lambda t: t.split('name="impression"')[1][:400]  # noqa: E731
    assert strip(page.text) == strip(again.text)
    first_shown = "base" if page.text.index("[base]") < page.text.index("[tuned]") else "tuned"

    r, imp_id, _ = rate(alice, "first")
    assert r.status_code == 200 and r.url.path == f"/a/{SLUG}/rate"
    imp = _impressions(store)[0]
    assert imp.id == imp_id and imp.choice == ("a" if first_shown == "base" else "b")
    assert imp.a_first == (first_shown == "base")
    # a retry of the same post (e.g. a double click) does not count twice or change the choice
    r = alice.post(
        f"/a/{SLUG}/rate",
        headers={"accept": "application/json"},
        data={"csrf": csrf_of(page.text), "impression": str(imp_id), "choice": "second"},
    )
    assert r.json() == {"impression": imp_id, "recorded": True, "replayed": True}
    assert _impressions(store)[0].choice == imp.choice
    # three items in all (p1 against its clause, p2 against both): rate the other two
    rate(alice, "second")
    r, _, _ = rate(alice, "neither")
    assert 'id="all-rated"' in r.text
    assert sorted((i.prompt_id, i.clause_id) for i in _impressions(store)) == [
        (1, 1),
        (2, 1),
        (2, 2),
    ]

    bob = client(app)
    join(bob)
    for _ in range(3):
        rate(bob, "second")
    page = admin.get(ROOT)
    assert 'id="results-clauses"' in page.text and "6 ratings" in page.text
    doc = admin.get(f"{ROOT}/public_eval.json").json()
    assert doc["n_ratings"] == 6 and doc["n_participants"] == 2
    assert set(doc["per_clause"]) == {"honest", "kind"}
    by_hand = [i.choice for i in _impressions(store)]
    wins_b = by_hand.count("b") + 0.5 * by_hand.count("neither")
    assert doc["overall"]["win_rate_b"] == pytest.approx(wins_b / 6)
    assert "api_key_env" not in doc["model_a"]
    from pluralign.evaluate.settings import EvaluateSettings

    # the download, the results page and `eval-public results`: the evaluation's resamples
    assert doc["provenance"]["n_boot"] == EvaluateSettings().n_boot == 1000

    export = admin.get(f"{ROOT}/pairs.jsonl")
    lines = [json.loads(x) for x in export.text.splitlines()]
    assert "__provenance__" in lines[0]
    pairs = lines[1:]
    from pluralign.data.preferences import read_jsonl

    (download := tmp_path / "download.jsonl").write_text(export.text)
    assert len(read_jsonl(download).pairs) == len(pairs)  # the trainer's reader accepts it
    assert len(pairs) == 6 - by_hand.count("neither")
    for p in pairs:
        assert p["source"] == "public-eval" and p["weight"] == 1.0
        model = "base" if p["provenance"]["chosen_model"] == "a" else "tuned"
        assert p["chosen"].startswith(f"[{model}]") and p["chosen"] != p["rejected"]
        assert p["prompt"] in p["chosen"]


def test_authorisation(app_store, scripted):
    script, base_url = scripted
    app, store = app_store
    admin, token = _admin(app, script)
    setup_eval(admin, token, base_url)
    participant = client(app)
    join(participant)
    p_token = csrf_of(participant.get(f"/a/{SLUG}/rate").text)
    moderator = client(app)
    m_token = login(moderator, "mod")
    anonymous = client(app)
    a_token = csrf_of(anonymous.get("/").text)
    admin_posts = ("models", "clauses", "prompts", "generate", "state")
    for path in admin_posts:
        r = participant.post(f"{ROOT}/{path}", data={"csrf": p_token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login"), path
        r = moderator.post(f"{ROOT}/{path}", data={"csrf": m_token}, follow_redirects=False)
        assert r.status_code == 403, path
    assert moderator.get(ROOT).status_code == 200
    assert moderator.get(f"{ROOT}/public_eval.json").status_code == 200
    assert moderator.get(f"{ROOT}/pairs.jsonl").status_code == 403  # the export is admin-only
    assert participant.get(f"{ROOT}/pairs.jsonl", follow_redirects=False).status_code == 303
    # organisers and strangers are not participants: the rating page sends them to consent
    for c, t in ((admin, token), (anonymous, a_token)):
        r = c.get(f"/a/{SLUG}/rate", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/a/{SLUG}"
        r = c.post(
            f"/a/{SLUG}/rate",
            data={"csrf": t, "impression": "1", "choice": "first"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == f"/a/{SLUG}"
    # no CSRF token, no rating
    r = participant.post(f"/a/{SLUG}/rate", data={"impression": "1", "choice": "first"})
    assert r.status_code == 403
    # someone else's comparison cannot be rated
    other = client(app)
    join(other)
    other.get(f"/a/{SLUG}/rate")
    mine = _impressions(store)[-1].id
    r = participant.post(
        f"/a/{SLUG}/rate", data={"csrf": p_token, "impression": str(mine), "choice": "first"}
    )
    assert r.status_code == 404 and _impressions(store)[-1].choice is None


def test_rating_is_rate_limited(tmp_path, scripted):  # per process, not per database
    script, base_url = scripted
    scripted_answers(script)
    app, store = make_app(f"sqlite:///{tmp_path / 'rl.db'}", burst=2, rate_per_minute=0.001)
    try:
        admin = client(app)
        token = create_assembly(admin, seeds=("one statement",))
        setup_eval(admin, token, base_url)
        c = client(app)
        join(c)
        assert rate(c, "first")[0].status_code == 200
        assert rate(c, "first")[0].status_code == 200
        assert rate(c, "first")[0].status_code == 429
    finally:
        store.dispose()


def test_setup_errors_are_shown_and_change_nothing(app_store, scripted):
    script, base_url = scripted
    app, store = app_store
    admin, token = _admin(app, script)
    assert "Not set up yet" in admin.get(ROOT).text
    r = admin.post(
        f"{ROOT}/models", data={"csrf": token, "a_base_url": "ftp://x", "b_base_url": base_url}
    )
    assert r.status_code == 400 and "must start with http" in r.text
    for key_env, message in (
        ("sk-123 4", "NAME of an environment variable"),
        ("PLURALIGN_DATABASE_URL", "must end in API_KEY"),
    ):
        data = {"a_base_url": base_url, "b_base_url": base_url, "a_api_key_env": key_env}
        r = admin.post(f"{ROOT}/models", data={"csrf": token, **data})
        assert r.status_code == 400 and message in r.text, key_env
    bad = prompts_jsonl() + b'{"prompt": ""}\n'
    r = _upload(admin, token, "prompts", "prompts.jsonl", bad, "application/jsonl")
    assert r.status_code == 400 and "prompts.jsonl, line 3" in r.text
    r = admin.post(f"{ROOT}/state", data={"csrf": token, "state": "open"})
    assert r.status_code == 400 and "generate the answers" in r.text
    r = admin.post(f"{ROOT}/generate", data={"csrf": token})
    assert r.status_code == 400 and "attach both models" in r.text
    # a model that fails leaves its prompts unanswered, with the error shown
    setup_eval(admin, token, base_url)
    c = client(app)
    join(c)
    rate(c, "first")
    r = _attach_models(admin, token, base_url, a_model="other")
    assert r.status_code == 400 and "rated answers already" in r.text


def test_failed_generation_is_reported_and_retried(tmp_path, scripted):
    script, base_url = scripted
    script.fail_if, script.fail_status = "My cat", 400  # 400: not retried by the provider
    app, store = make_app(f"sqlite:///{tmp_path / 'fail.db'}")
    admin, token = _admin(app, script)
    _attach_models(admin, token, base_url)
    _upload(admin, token, "clauses", "c.yaml", b"clauses: [Be honest.]\n", "text/yaml")
    _upload(admin, token, "prompts", "p.csv", b"prompt\nWhat is 2+2?\nMy cat died\n", "text/csv")
    r = admin.post(f"{ROOT}/generate", data={"csrf": token})
    assert "1 prompt answered" in r.text and "1 failed" in r.text
    assert 'id="generation-errors"' in r.text
    script.fail_if = None
    r = admin.post(f"{ROOT}/generate", data={"csrf": token})
    assert "1 prompt answered" in r.text and 'id="generation-errors"' not in r.text
    store.dispose()


def test_interrupted_generation_keeps_the_answers_it_got(tmp_path, scripted, monkeypatch):
    from sqlalchemy import select

    from pluralign.llm.provider import Provider
    from pluralign.publiceval import service as svc
    from pluralign.publiceval.models import PublicEvalPrompt

    script, base_url = scripted
    app, store = make_app(f"sqlite:///{tmp_path / 'kill.db'}")
    admin, token = _admin(app, script)
    _attach_models(admin, token, base_url)
    _upload(admin, token, "prompts", "p.jsonl", prompts_jsonl(), "application/jsonl")
    monkeypatch.setattr(svc, "CHUNK", 1)
    calls = []
    real = Provider.complete_many

    def dies_on_the_third_call(self, requests, on_done=None):
        calls.append(1)
        if len(calls) == 3:  # model A, second chunk: the process is "killed"
            raise KeyboardInterrupt
        return real(self, requests, on_done)

    monkeypatch.setattr(Provider, "complete_many", dies_on_the_third_call)
    with pytest.raises(KeyboardInterrupt):
        svc.generate_answers(store, SLUG)
    with store.session() as s:
        rows = s.scalars(select(PublicEvalPrompt).order_by(PublicEvalPrompt.id)).all()
        assert rows[0].answer_a and rows[0].answer_b and rows[1].answer_a is None
    sent = len(script.seen)
    monkeypatch.setattr(Provider, "complete_many", real)
    assert svc.generate_answers(store, SLUG) == {"generated": 1, "failed": 0, "requested": 1}
    assert len(script.seen) == sent + 2  # only the missing prompt, once per model
    store.dispose()
