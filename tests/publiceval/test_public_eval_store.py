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
