"""The stage runner: skip unchanged, rerun downstream of a change, --from, resume after a kill."""

from __future__ import annotations

import json

import pytest

from pluralign.errors import PluralignError
from pluralign.run.manifest import read_manifest
from pluralign.run.runner import Stage, run_stages


def _stages(tmp_path, calls, settings=None, fail_in=None):
    source = tmp_path / "input.txt"

    def first(ctx):
        calls.append("first")
        (ctx.out / "a.txt").write_text(source.read_text().upper())

    def second(ctx):
        calls.append("second")
        if fail_in == "second":
            raise KeyboardInterrupt  # a kill in the middle of the stage
        text = (ctx.stage_dir("first") / "a.txt").read_text()
        (ctx.out / "b.txt").write_text(text * ctx.settings["times"])

    return [
        Stage("first", first, inputs={"source": source}),
        Stage("second", second, settings=settings or {"times": 2}, after=("first",)),
    ]


def test_second_run_skips_and_outputs_are_kept(tmp_path):
    (tmp_path / "input.txt").write_text("x")
    calls = []
    result = run_stages(_stages(tmp_path, calls), tmp_path / "run", seed=1)
    assert [o.status for o in result.outcomes] == ["ran", "ran"]
    assert (tmp_path / "run/second/b.txt").read_text() == "XX"
    again = run_stages(_stages(tmp_path, calls), tmp_path / "run", seed=1)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    assert calls == ["first", "second"]
    manifest = read_manifest(tmp_path / "run/first")
    assert manifest["inputs"]["source"]["sha256"] == (
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    )  # sha256("x")
    assert manifest["outputs"] == ["a.txt"]
    assert "python" in manifest["versions"]


def test_changed_input_reruns_it_and_everything_after(tmp_path):
    (tmp_path / "input.txt").write_text("x")
    calls = []
    run_stages(_stages(tmp_path, calls), tmp_path / "run", seed=1)
    (tmp_path / "input.txt").write_text("y")
    result = run_stages(_stages(tmp_path, calls), tmp_path / "run", seed=1)
    assert [o.status for o in result.outcomes] == ["ran", "ran"]
    assert (tmp_path / "run/second/b.txt").read_text() == "YY"


def test_changed_settings_or_seed_rerun_only_what_they_touch(tmp_path):
    (tmp_path / "input.txt").write_text("x")
    calls = []
    run_stages(_stages(tmp_path, calls), tmp_path / "run", seed=1)
    result = run_stages(_stages(tmp_path, calls, settings={"times": 3}), tmp_path / "run", seed=1)
    assert [o.status for o in result.outcomes] == ["skipped", "ran"]
    assert (tmp_path / "run/second/b.txt").read_text() == "XXX"
    result = run_stages(_stages(tmp_path, calls, settings={"times": 3}), tmp_path / "run", seed=2)
    assert [o.status for o in result.outcomes] == ["ran", "ran"]


def test_from_stage_forces_that_stage_and_later(tmp_path):
    (tmp_path / "input.txt").write_text("x")
    calls = []
    run_stages(_stages(tmp_path, calls), tmp_path / "run", seed=1)
    result = run_stages(_stages(tmp_path, calls), tmp_path / "run", seed=1, from_stage="second")
    assert [o.status for o in result.outcomes] == ["skipped", "ran"]
    with pytest.raises(PluralignError, match="unknown stage 'third'"):
        run_stages(_stages(tmp_path, calls), tmp_path / "run", seed=1, from_stage="third")


def test_killed_stage_runs_again_and_finished_ones_do_not(tmp_path):
    (tmp_path / "input.txt").write_text("x")
    calls = []
    with pytest.raises(KeyboardInterrupt):
        run_stages(_stages(tmp_path, calls, fail_in="second"), tmp_path / "run", seed=1)
    assert read_manifest(tmp_path / "run/second") is None
    result = run_stages(_stages(tmp_path, calls), tmp_path / "run", seed=1)
    assert [o.status for o in result.outcomes] == ["skipped", "ran"]
    assert calls == ["first", "second", "second"]


def test_torn_manifest_means_not_done(tmp_path):
    (tmp_path / "input.txt").write_text("x")
    calls = []
    run_stages(_stages(tmp_path, calls), tmp_path / "run", seed=1)
    (tmp_path / "run/second/manifest.json").write_text('{"fingerp')
    result = run_stages(_stages(tmp_path, calls), tmp_path / "run", seed=1)
    assert result.status("second") == "ran"
    assert json.loads((tmp_path / "run/second/manifest.json").read_text())["stage"] == "second"


def test_missing_input_is_named(tmp_path):
    with pytest.raises(PluralignError, match="input not found: source="):
        run_stages(_stages(tmp_path, []), tmp_path / "run", seed=1)
