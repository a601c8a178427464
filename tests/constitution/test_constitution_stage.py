"""The constitution as a contract stage: ``run`` drafts (or takes the given file), and its
result reads back what it wrote, so a resumed run does not draft again."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "aggregate"))
from synthetic_votes import synthetic_votes  # noqa: E402

from pluralign.aggregate import aggregate, from_votes  # noqa: E402
from pluralign.constitution import ConstitutionSettings, draft_constitution  # noqa: E402
from pluralign.constitution.stage import (  # noqa: E402
    STAGE,
    ConstitutionInputs,
    ConstitutionResult,
)
from pluralign.errors import InputError  # noqa: E402


@pytest.fixture(scope="module")
def result():
    votes, _ = synthetic_votes(n_per_group=(30, 25), n_divisive=12, n_consensus=4, seed=11)
    texts = {s: f"Statement {s} says that the assistant should act in way number {s}."
             for s in range(16)}
    return aggregate(from_votes(votes, texts=texts), seed=0)


def test_result_read_gives_back_what_write_wrote(result, tmp_path):
    settings = ConstitutionSettings(embedder="tfidf", title="Rules")
    out = STAGE.run(ConstitutionInputs(aggregate=result, summary=True), settings, 3)
    assert out.constitution.clauses and out.constitution.title == "Rules"
    # the same as the library function with the stage's topic model
    assert out.constitution == draft_constitution(result, settings=settings,
                                                  topics=out.sensemaking.topics)
    out.write(tmp_path / "a")
    back = ConstitutionResult.read(tmp_path / "a")
    assert back.constitution == out.constitution
    assert back.sensemaking.summary.to_dict() == out.sensemaking.summary.to_dict()
    back.write(tmp_path / "b")
    for name in ("constitution.yaml", "constitution.md", "topics.json", "summary.json",
                 "summary.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert not (tmp_path / "c").exists()
    STAGE.run(ConstitutionInputs(aggregate=result), settings, 3).write(tmp_path / "c")
    assert not (tmp_path / "c" / "summary.json").exists()  # the command's draft: no summary


def test_a_given_constitution_is_taken_as_it_is(result, tmp_path):
    drafted = STAGE.run(ConstitutionInputs(aggregate=result),
                        ConstitutionSettings(embedder="tfidf"), 0)
    drafted.write(tmp_path)
    given = STAGE.run(ConstitutionInputs(given=tmp_path / "constitution.yaml"),
                      ConstitutionSettings(), 5)
    assert given.constitution == drafted.constitution and given.sensemaking is None


def test_no_clauses_is_an_error_naming_the_threshold_when_required(result):
    strict = ConstitutionSettings(embedder="tfidf", min_posterior=1.0)
    assert not STAGE.run(ConstitutionInputs(aggregate=result), strict, 0).constitution.clauses
    with pytest.raises(InputError, match=r"no clauses.*constitution\.min_posterior"):
        STAGE.run(ConstitutionInputs(aggregate=result, require_clauses=True), strict, 0)
    interval = ConstitutionSettings(embedder="tfidf", consensus_method="interval",
                                    min_group_agreement=0.99)
    with pytest.raises(InputError, match=r"no clauses.*constitution\.min_group_agreement"):
        STAGE.run(ConstitutionInputs(aggregate=result, require_clauses=True), interval, 0)


def test_settings_check_their_constraints():
    for kwargs, field in (({"min_group_votes": 0}, "constitution.min_group_votes"),
                          ({"embedder": "bert"}, "constitution.embedder"),
                          ({"style": "poem"}, "constitution.style"),
                          ({"merge_threshold": 2.0}, "constitution.merge_threshold")):
        with pytest.raises(InputError, match=f"field '{field}'"):
            ConstitutionSettings(**kwargs)
