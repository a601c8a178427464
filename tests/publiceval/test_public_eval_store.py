"""Migration 0004 (up and down on both databases) and the presentation-order coin."""

from __future__ import annotations

from sqlalchemy import inspect

from pluralign.publiceval.service import a_first

TABLES = {"public_eval", "public_eval_prompt", "public_eval_clause", "public_eval_impression"}


def test_migration_0004_up_and_down(store):
    from alembic import command
    from alembic.config import Config

    from pluralign.store.session import MIGRATIONS, upgrade

    assert set(inspect(store.engine).get_table_names()) >= TABLES
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0003")
    names = set(inspect(store.engine).get_table_names())
    assert not TABLES & names and "moral_context" in names
    upgrade(store.engine)
    assert set(inspect(store.engine).get_table_names()) >= TABLES


def test_presentation_order_is_seeded_and_fair():
    draws = [a_first(7, p, q, c) for p in range(20) for q in range(10) for c in range(5)]
    assert draws == [a_first(7, p, q, c) for p in range(20) for q in range(10) for c in range(5)]
    assert 440 <= sum(draws) <= 560  # 1000 fair coins: ±3.8 standard deviations
    assert draws != [a_first(8, p, q, c) for p in range(20) for q in range(10) for c in range(5)]


def test_an_uploaded_prompt_file_is_read_by_the_one_jsonl_reader():
    import pytest

    from pluralign.errors import InputError
    from pluralign.publiceval.service import parse_prompts
    from pluralign.web.i18n import error_text

    rows = parse_prompts(b'\xef\xbb\xbf{"prompt": "Hi?", "id": "a"}\n\n{"question": "Why?"}\n',
                         "p.jsonl")
    assert [(r["key"], r["text"]) for r in rows] == [("a", "Hi?"), ("p2", "Why?")]
    for body, english, german in (
        (b'{"prompt": "Hi?"}\n{"prompt": "x", "w": NaN}\n',
         "p.jsonl, line 2: field 'w' is NaN, not a finite number",
         "p.jsonl, Zeile 2: das Feld „w“ ist NaN, keine endliche Zahl"),
        (b'{"prompt": "Hi?"}\n["x"]\n', "p.jsonl, line 2: expected a JSON object, found list",
         "p.jsonl, Zeile 2: hier wird ein JSON-Objekt erwartet, gefunden: list"),
        (b'{"prompt": "Hi?"}\n{"prompt": \n', "p.jsonl, line 2: invalid JSON",
         "p.jsonl, Zeile 2: kein gültiges JSON"),
    ):
        with pytest.raises(InputError) as exc:
            parse_prompts(body, "p.jsonl")
        assert str(exc.value).startswith(english), str(exc.value)
        assert error_text(exc.value, "de", with_hint=False).startswith(german)
        assert exc.value.hint  # the reader's hint, or: one object a line, or upload a .csv
