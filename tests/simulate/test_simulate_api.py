"""Simulator API: determinism, config validation, votes for any subset of the pool, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_cli
from pluralign.cli import main
from pluralign.data.polis import read_polis
from pluralign.errors import InputError, NotFoundError
from pluralign.simulate import SimulationSettings, simulate_assembly, write_simulation

FILES = (
    "comments.csv",
    "votes.csv",
    "participants-votes.csv",
    "summary.csv",
    "pool.csv",
    "population.json",
    "truth.json",
)


@pytest.fixture(scope="module")
def small():
    return simulate_assembly(SimulationSettings(participants=120, statements=40, seed=2))


def test_same_seed_same_bytes_different_seed_differs(tmp_path):
    config = SimulationSettings(participants=150, statements=45, seed=7)
    write_simulation(simulate_assembly(config), tmp_path / "a")
    write_simulation(simulate_assembly(config), tmp_path / "b")
    other = SimulationSettings(participants=150, statements=45, seed=8)
    write_simulation(simulate_assembly(other), tmp_path / "c")
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "votes.csv").read_bytes() != (
        tmp_path / "c" / "votes.csv"
    ).read_bytes()


def test_files_are_valid_polis_and_consistent(small, tmp_path):
    write_simulation(small, tmp_path)
    export = read_polis(tmp_path)  # validates cells against votes, ids, values
    assert len(export.comments) == 40
    assert len(export.participants) == 121  # the moderator (0) and 120 volunteers
    moderator = export.participants.iloc[0]
    assert moderator["participant"] == 0 and moderator["n-votes"] == 0
    assert moderator["n-comments"] == small.statements["is_seed"].sum()
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert [p["id"] for p in truth["participants"]] == list(small.pool["id"])
    assert {p["group"] for p in truth["participants"]} <= {g["id"] for g in truth["groups"]}
    slugs = [s["slug"] for s in truth["statements"]]
    assert len(set(slugs)) == len(slugs) == 40
    accepted = set(small.statements.loc[small.statements["moderated"] == 1, "comment-id"])
    assert set(truth["consensus"]) | set(truth["divisive"]) <= accepted
    population = json.loads((tmp_path / "population.json").read_text())
    for feature in ("age_band", "gender", "region", "education"):
        shares = population["features"][feature]
        assert abs(sum(shares.values()) - 1) < 1e-6
        assert set(small.pool[feature]) <= set(shares)
    assert list(small.pool.columns) == ["id", "age_band", "gender", "region", "education"]


def test_vote_probabilities_and_subset_votes(small):
    panel = list(small.pool["id"].iloc[::10])
    slugs = ["privacy-no-selling-data", "creativity-explicit-adults"]  # any bank statement
    probs = small.vote_probabilities(panel, slugs)
    assert probs.shape == (len(panel), 2, 3)
    assert np.allclose(probs.sum(axis=2), 1.0)
    votes = small.simulate_votes(panel, slugs, seed=4)
    assert len(votes) == 2 * len(panel)  # rate 1: everyone votes on everything
    assert set(votes["id"]) == set(panel) and set(votes["vote"]) <= {1, -1, 0}
    again = small.simulate_votes(panel, slugs, seed=4)
    assert votes.equals(again)
    support = small.support(panel, slugs)
    assert support.shape == (len(panel), 2)
    assert (support["privacy-no-selling-data"] > 0.5).all()  # a consensus statement
    member = panel[0]
    group = small.group_of(member)
    assert group in small.group_ids
    with pytest.raises(InputError, match="unknown pool ids"):
        small.vote_probabilities(["nobody"])
    with pytest.raises(NotFoundError, match="did you mean privacy-no-selling-data"):
        small.vote_probabilities(panel, ["privacy-no-seling-data"])


def test_subset_votes_follow_probabilities(small):
    everyone = list(small.pool["id"])
    slug = "autonomy-slow-down"  # divisive
    votes = small.simulate_votes(everyone * 20, [slug], seed=1)
    expected = small.vote_probabilities(everyone, [slug])[:, 0, :].mean(axis=0)
    observed = [(votes["vote"] == v).mean() for v in (1, -1, 0)]
    assert np.allclose(observed, expected, atol=0.03)


@pytest.mark.parametrize(
    "field,value",
    [
        ("participants", 0),
        ("statements", 1),
        ("vote_rate", 1.5),
        ("seed_share", -0.1),
        ("start", "yesterday"),
        ("days", 0),
        ("engagement_concentration", 0),
        ("conviction", (6.0, 0.0)),
        ("conviction", (6.0,)),
        ("change_rate", float("nan")),
    ],
)
def test_bad_config_is_an_input_error(field, value):
    with pytest.raises(InputError, match=f"^field '{field}' of the simulation settings: "):
        SimulationSettings(**{field: value})


def test_one_simulation_settings_class():
    """The simulator's settings are the stage's (same fields, defaults, help and bounds: one
    declaration) plus its own, a frozen settings class with help text on every field."""
    import dataclasses

    from pluralign.contract import Settings, from_options
    from pluralign.simulate.settings import SimulateSettings

    engine, stage = SimulationSettings(), SimulateSettings()
    assert isinstance(engine, SimulateSettings) and isinstance(engine, Settings)
    shared = {f.name: f for f in dataclasses.fields(SimulateSettings)}
    for f in dataclasses.fields(SimulationSettings):
        assert f.metadata["help"], f.name
        if f.name in shared:
            assert f is shared[f.name] or (f.default, f.metadata) == (
                shared[f.name].default, shared[f.name].metadata)
            assert getattr(engine, f.name) == getattr(stage, f.name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        engine.seed = 1
    with pytest.raises(InputError, match="^--vote-rate: must be <= 1, got 1.5$"):
        from_options(SimulationSettings, vote_rate=1.5)


def test_too_many_statements_names_the_limit():
    with pytest.raises(InputError, match="the bank holds only"):
        simulate_assembly(SimulationSettings(statements=10_000))


def test_simulate_cli(tmp_path):
    args = ["simulate", "--participants", "60", "--statements", "30", "--seed", "3", "--out"]
    out = run_cli(*args, tmp_path / "sim")
    assert out.returncode == 0, out.stderr
    for name in FILES:
        assert (tmp_path / "sim" / name).is_file()
    sim = simulate_assembly(SimulationSettings(participants=60, statements=30, seed=3))
    write_simulation(sim, tmp_path / "engine")
    for name in FILES:  # the command runs the stage: the engine's files, and its counts
        assert (tmp_path / "sim" / name).read_bytes() == (tmp_path / "engine" / name).read_bytes()
    counts = [len(sim.people), len(sim.statements), len(sim.votes)]
    assert all(str(n) in out.stdout for n in counts), out.stdout
    # in-process like the CLI (a second subprocess costs seconds): same seed, same bytes
    main([*args, str(tmp_path / "sim2")])
    for name in FILES:
        assert (tmp_path / "sim" / name).read_bytes() == (tmp_path / "sim2" / name).read_bytes()


def test_simulate_cli_bad_option_exits_1(capsys, tmp_path):
    with pytest.raises(SystemExit) as done:
        main(["simulate", "--participants", "0", "--out", str(tmp_path / "bad")])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "--participants: must be >= 1, got 0" in err and "Traceback" not in err
    assert not (tmp_path / "bad").exists()


def test_panel_subset_of_the_conversation(small):
    panel = list(small.pool["id"].iloc[5:25])
    votes = small.conversation_votes(panel)
    assert set(votes["id"]) <= set(panel)
    numbers = set(small.people.set_index("id").loc[panel, "participant"])
    full = small.polis.latest_votes()
    assert len(votes) == full["voter-id"].isin(numbers).sum()
    history = small.conversation_votes(panel, latest=False)
    assert len(history) >= len(votes)
    sub = small.polis_subset(panel)
    assert set(sub.votes["voter-id"]) <= numbers
    assert list(sub.comments["comment-id"]) == list(small.polis.comments["comment-id"])
    matrix = sub.vote_matrix()
    for row in votes.itertuples(index=False):
        assert matrix.loc[row.participant, row[2]] == row.vote


@pytest.mark.parametrize("seed_share", [0.0, 1.0])
def test_whole_bank_in_one_conversation(seed_share):
    from pluralign.simulate import load_bank

    bank = load_bank()
    room = len(bank.statements)
    sim = simulate_assembly(
        SimulationSettings(participants=20, statements=room, seed_share=seed_share, seed=1)
    )
    assert sorted(sim.statements["slug"]) == sorted(s.slug for s in bank.statements)
