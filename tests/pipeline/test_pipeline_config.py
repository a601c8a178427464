"""pipeline.yaml: the example validates, errors name the file, field and line, stages follow the
inputs, and the demo is the pipeline on a simulated input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import REPO, run_cli
from pluralign.errors import InputError
from pluralign.run.config import EXAMPLE_YAML, load_pipeline_config, parse_pipeline_config
from pluralign.run.demo import demo_config
from pluralign.run.pipeline import build_stages


def test_init_writes_the_commented_example_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "pipeline.yaml"
    out = run_cli("init", target)
    assert out.returncode == 0, out.stderr
    assert target.read_text() == EXAMPLE_YAML and "# " in EXAMPLE_YAML
    cfg = load_pipeline_config(target)
    assert cfg.inputs.polis == tmp_path / "data" / "my-conversation"  # relative to the file
    assert cfg.run_dir == tmp_path / "pluralign-run"
    assert cfg.train.method == "dpo" and cfg.panel.method == "leximin"
    again = run_cli("init", target)
    assert again.returncode == 1 and "exists" in again.stderr and "Traceback" not in again.stderr


@pytest.mark.parametrize(("text", "field", "line"), [
    ("inputs:\n  polis: p\npanel:\n  size: -3\n", "panel.size", 4),
    ("inputs:\n  polis: p\ntrain:\n  max_stepz: 3\n", "train.max_stepz", 4),
    ("inputs:\n  polis: p\ntrain:\n  method: kto\n  sft_weight: 1\n", "train.sft_weight", 5),
    ("inputs: {}\n", "inputs", 1),
    ("inputs:\n  polis: p\n  store: {db: x.db, slug: s}\n", "inputs", 1),
    ("inputs:\n  polis: p\nmodel:\n  llm: {base_url: http://x, checkpoint: y}\n", "model.llm", 4),
    ("inputs:\n  polis: p\nsurprise: 1\n", "surprise", 3),
    ("inputs:\n  polis: p\n  pool: pool.csv\n", "inputs", 1),
    ("inputs:\n  constitution: c.yaml\n  panel: panel.csv\n", "inputs", 1),
])
def test_errors_name_the_file_the_field_and_the_line(tmp_path, text, field, line):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        load_pipeline_config(path)
    assert f"field '{field}'" in str(exc.value)
    assert exc.value.where == f"{path}, line {line}"


def test_cli_reports_a_bad_file_without_traceback(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("inputs:\n  polis: missing-folder\n")
    out = run_cli("run", path)
    assert out.returncode == 1
    assert "field 'inputs.polis': not found" in out.stderr and "Traceback" not in out.stderr
    path.write_text("inputs: [unclosed\n")
    out = run_cli("run", path)
    assert out.returncode == 1 and "not valid YAML" in out.stderr and "line 2" in out.stderr


def test_stages_follow_the_inputs(tmp_path):
    polis = tmp_path / "polis"
    polis.mkdir()
    cfg = parse_pipeline_config({"inputs": {"polis": str(polis)}})
    names = [s.name for s in build_stages(cfg)]
    assert names == ["aggregate", "constitution", "model", "synth", "data", "train", "evaluate",
                     "report"]
    (tmp_path / "pool.csv").write_text("id,a\n1,x\n")
    (tmp_path / "quotas.csv").write_text("feature,value,min,max\na,x,0,1\n")
    cfg = parse_pipeline_config({"inputs": {"polis": "polis", "pool": "pool.csv",
                                            "quotas": "quotas.csv"}}, base=tmp_path)
    stages = build_stages(cfg)
    assert stages[0].name == "panel"
    assert set(stages[0].inputs) == {"pool", "quotas"}  # their sha256 enter the fingerprint
    assert stages[-1].after == tuple(s.name for s in stages[:-1])
    demo = [s.name for s in build_stages(demo_config(tmp_path / "d"))]
    assert demo[:3] == ["simulate", "store", "summary"] and "synth" not in demo
    # given data (the workbench's integration): no deliberation, the constitution comes first
    (tmp_path / "c.yaml").write_text("clauses:\n- {id: c1, text: The assistant should be kind.}\n")
    (tmp_path / "pairs.jsonl").write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n')
    given = {"inputs": {"constitution": "c.yaml", "preferences": ["pairs.jsonl"]}}
    stages = build_stages(parse_pipeline_config({**given, "rounds": {"steps": [[]]}},
                                                base=tmp_path))
    assert [s.name for s in stages] == ["constitution", "model", "data", "train", "evaluate",
                                        "report"]
    assert stages[0].after == () and stages[1].after == ("constitution",)
    assert set(stages[0].inputs) == {"constitution"} and "aggregate" not in stages[1].settings
    with_synth = [s.name for s in build_stages(parse_pipeline_config(given, base=tmp_path))]
    assert with_synth[:3] == ["constitution", "model", "synth"]


def test_walkthrough_example_is_valid():
    data = yaml.safe_load((REPO / "examples" / "walkthrough" / "pipeline.yaml").read_text())
    cfg = parse_pipeline_config(data, base=Path("/x"))
    assert cfg.inputs.polis == Path("/x/polis") and cfg.panel.size == 24
    assert cfg.inputs.preferences == [Path("/x/extra_prefs.jsonl")]
