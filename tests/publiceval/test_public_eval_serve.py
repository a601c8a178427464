"""Public evaluation against real ``pluralign serve`` servers with tiny local models (A and B
built with different seeds), through the web app: generation, the on-disk cache, rating."""

from __future__ import annotations

import pytest
from public_eval_kit import SLUG, client, create_assembly, join, make_app, rate, setup_eval

pytest_plugins = ["conftest_llm"]  # tiny model, `pluralign serve` app on a loopback port


@pytest.mark.slow
def test_rating_answers_of_two_served_tiny_models(tiny_server, tmp_path, monkeypatch):
    from conftest_llm import ServerThread, build_tiny_model
    from sqlalchemy import select, update

    from pluralign.llm.local import LocalModel
    from pluralign.llm.serve import create_app as serve_app
    from pluralign.publiceval import results as pr
    from pluralign.publiceval import service as svc
    from pluralign.publiceval.models import PublicEvalPrompt

    app_b = serve_app(LocalModel(build_tiny_model(tmp_path / "b", seed=1, train_steps=5)), "tiny-b")
    monkeypatch.setenv("PLURALIGN_WEB_LLM_CACHE", str(tmp_path / "cache"))
    app, store = make_app(f"sqlite:///{tmp_path / 'serve.db'}")
    try:
        with ServerThread(app_b) as server_b:
            admin = client(app)
            token = create_assembly(admin)
            sent_a = tiny_server.requests()
            setup_eval(
                admin,
                token,
                tiny_server.base_url,
                b_url=server_b.base_url,
                a_model="tiny",
                b_model="tiny-b",
                tokens=12,
            )
            assert tiny_server.requests() - sent_a == 2 and app_b.state.requests == 2
            with store.session() as s:
                rows = s.scalars(select(PublicEvalPrompt)).all()
                assert all(p.answer_a is not None and p.answer_b is not None for p in rows)
                answers = {(p.answer_a, p.answer_b) for p in rows}
                # forget the stored answers: generating again is answered by the cache
                s.execute(update(PublicEvalPrompt).values(answer_a=None, answer_b=None))
            res = svc.generate_answers(store, SLUG, tmp_path / "cache")
            assert res == {"generated": 2, "failed": 0, "requested": 2}
            assert tiny_server.requests() - sent_a == 2 and app_b.state.requests == 2
            with store.session() as s:
                again = {(p.answer_a, p.answer_b) for p in s.scalars(select(PublicEvalPrompt))}
            assert again == answers
            c = client(app)
            join(c)
            for _ in range(3):
                r, _, page = rate(c, "second")
                assert r.status_code == 200
            assert 'id="all-rated"' in r.text
        doc = pr.results(store, SLUG, n_boot=100)
        assert doc["n_ratings"] == 3 and doc["model_b"]["model"] == "tiny-b"
    finally:
        store.dispose()
