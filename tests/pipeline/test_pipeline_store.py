"""A pipeline whose deliberation is an assembly in the store (db + slug): it runs through the
synthesis and the report, and new votes in the store re-run the stages that read them."""

from __future__ import annotations

import re
import sqlite3

import pytest

from conftest import run_cli
from pluralign.run.demo import demo_config
from pluralign.run.pipeline import build_stages
from pluralign.run.runner import run_stages

pytest.importorskip("trl")


def _statuses(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"│ (\w+)\s+│ (ran|skipped)\s+│", stdout))


@pytest.mark.slow
def test_store_input_runs_and_new_votes_rerun_aggregation(tmp_path):
    sim = tmp_path / "sim"
    run_stages(build_stages(demo_config(sim, seed=2))[:2], sim, seed=2)  # simulate → store
    db = sim / "pluralign.db"
    yaml = tmp_path / "pipeline.yaml"
    yaml.write_text(f"""run_dir: run
threads: 1
inputs:
  store: {{db: "{db}", slug: demo}}
model:
  base: tiny
  tiny: {{vocab_size: 300, hidden_size: 32, layers: 1, heads: 2, pretrain_steps: 2}}
synth: {{questions_per_clause: 1, attempts: 1, max_tokens: 8, max_clauses: 1}}
train: {{max_steps: 2, per_device_train_batch_size: 4, save_steps: 2}}
evaluate: {{n_boot: 20}}
""")
    # the tiny model's synthesis rarely yields a pair: give the data stage pairs of its own
    extra = tmp_path / "extra.jsonl"
    extra.write_text("".join(
        f'{{"prompt": "question {i}", "chosen": "a kind answer {i}", "rejected": "no {i}"}}\n'
        for i in range(6)))
    yaml.write_text(yaml.read_text().replace("  store:", f'  preferences: ["{extra}"]\n  store:'))
    first = run_cli("run", yaml)
    assert first.returncode == 0, first.stderr[-3000:]
    assert set(_statuses(first.stdout).values()) == {"ran"}
    assert (tmp_path / "run" / "report.html").is_file()

    with sqlite3.connect(db) as con:  # one vote less: the store's assembly changed
        con.execute("DELETE FROM vote WHERE id = (SELECT max(id) FROM vote)")
    again = run_cli("run", yaml)
    assert again.returncode == 0, again.stderr[-3000:]
    assert _statuses(again.stdout)["aggregate"] == "ran"
