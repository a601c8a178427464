"""Polis files without a database: hand-computed derived columns, byte-exact rewrite of the real
exports, and a property test that write → read is lossless."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import POLIS_CONVERSATIONS
from pluralign.data.polis import (
    PolisClock,
    make_polis_export,
    read_polis,
    write_polis,
)

FILES = ("comments.csv", "votes.csv", "participants-votes.csv", "summary.csv")


def tiny_export():
    """Two comments, three participants, one changed vote and one participant who never voted."""
    comments = pd.DataFrame(
        {
            "comment-id": [0, 1],
            "author-id": [0, 2],
            "timestamp": [1_000, 9_000],
            "moderated": [1, -1],
            "comment-body": ["Plain text", 'Has "quotes", commas\nand a newline'],
        }
    )
    votes = pd.DataFrame(
        {  # (timestamp, comment, voter, vote)
            "timestamp": [2_000, 6_000, 3_000, 9_500, 9_000],
            "comment-id": [0, 0, 0, 1, 1],
            "voter-id": [1, 1, 2, 1, 2],
            "vote": [1, -1, 0, 1, 1],
        }
    )
    roster = pd.DataFrame(
        {"participant": [0, 1, 2, 3], "group-id": pd.array([None, 0, 1, None], dtype="Int64")}
    )
    return make_polis_export(
        comments,
        votes,
        roster,
        clock=PolisClock("WIB", 420),
        summary={"topic": "Tiny", "conversation-description": "a, b"},
    )


def test_derived_columns_by_hand():
    export = tiny_export()
    c = export.comments.set_index("comment-id")
    # agrees/disagrees count vote events, repeat votes included
    assert (c.loc[0, "agrees"], c.loc[0, "disagrees"]) == (1, 1)
    assert (c.loc[1, "agrees"], c.loc[1, "disagrees"]) == (2, 0)
    assert c.loc[0, "datetime"] == "Thu Jan 01 07:00:01 WIB 1970"
    pv = export.participants.set_index("participant")
    assert list(pv.index) == [0, 1, 2, 3]
    assert pv.loc[1, "0"] == -1 and pv.loc[1, "1"] == 1  # latest by time, not file order
    assert pv.loc[2, "0"] == 0 and pv.loc[2, "1"] == 1
    assert pv.loc[3].iloc[5:].isna().all() and pv.loc[3, "n-votes"] == 0
    assert list(pv.loc[1, ["n-comments", "n-votes", "n-agree", "n-disagree"]]) == [0, 2, 1, 1]
    assert list(pv.loc[2, ["n-comments", "n-votes", "n-agree", "n-disagree"]]) == [1, 2, 1, 0]
    assert pv.loc[0, "n-comments"] == 1
    assert list(pv["group-id"].astype("float").fillna(-9)) == [-9, 0, 1, -9]
    # votes.csv order: comment, voter, then time
    assert list(export.votes["timestamp"]) == [2_000, 6_000, 3_000, 9_500, 9_000]
    s = export.summary
    assert (s["voters"], s["commenters"], s["comments"], s["groups"]) == ("2", "2", "2", "2")
    assert s["views"] == "4" and s["voters-in-conv"] == "2"


def test_clock_detects_and_prints_polis_dates():
    clock = PolisClock.detect(1500282615559, "Mon Jul 17 16:10:15 WIB 2017")
    assert clock == PolisClock("WIB", 420)
    assert PolisClock.detect(1500282615559, "Mon Jul 17 16:10:15 2017") is None
    assert PolisClock().format(0) == "Thu Jan 01 00:00:00 UTC 1970"


@pytest.mark.parametrize("name", POLIS_CONVERSATIONS)
def test_real_exports_rewrite_byte_for_byte(polis_dir, tmp_path, name):
    export = read_polis(polis_dir / name)
    write_polis(export, tmp_path)
    for f in FILES:
        assert (tmp_path / f).read_bytes() == (polis_dir / name / f).read_bytes(), f


@pytest.mark.parametrize("name", POLIS_CONVERSATIONS)
def test_derived_columns_recomputed_equal_polis(polis_dir, tmp_path, name):
    """From only the primary data (ids, authors, times, votes, groups) our derived columns
    (agrees, disagrees, datetime, participants-votes cells, n-* counts, summary counts) equal
    the ones Polis wrote."""
    read = read_polis(polis_dir / name)
    base_comments = read.comments[
        ["comment-id", "author-id", "timestamp", "moderated", "comment-body"]
    ]
    base_votes = read.votes[["timestamp", "comment-id", "voter-id", "vote"]]
    keep = {
        k: v
        for k, v in read.summary.items()
        if k in ("topic", "url", "views", "voters-in-conv", "conversation-description")
    }
    rebuilt = make_polis_export(
        base_comments,
        base_votes,
        read.participants[["participant", "group-id"]],
        summary=keep,
        clock=read.clock,
    )
    write_polis(rebuilt, tmp_path)
    for f in FILES:
        assert (tmp_path / f).read_bytes() == (polis_dir / name / f).read_bytes(), f


def test_optional_files_and_derived_columns_may_be_absent(tmp_path):
    write_polis(tiny_export(), tmp_path)
    (tmp_path / "participants-votes.csv").unlink()
    (tmp_path / "summary.csv").unlink()
    comments = pd.read_csv(tmp_path / "comments.csv")
    comments.drop(columns=["agrees", "disagrees", "datetime"]).to_csv(
        tmp_path / "comments.csv", index=False
    )
    export = read_polis(tmp_path)
    full = tiny_export()
    assert list(export.comments["agrees"]) == list(full.comments["agrees"])
    # without participants-votes.csv, participants are the voters and authors, ascending
    assert list(export.participants["participant"]) == [0, 1, 2]
    assert export.summary == {}


texts = st.text(
    # CR, LF, quotes, commas included; not NUL, which readers refuse (PostgreSQL text cannot
    # hold it, and in a CSV file it means a binary or broken file)
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=30,
)


@st.composite
def conversations(draw):
    n_comments = draw(st.integers(1, 6))
    n_people = draw(st.integers(1, 6))
    comment_ids = draw(
        st.lists(st.integers(0, 50), min_size=n_comments, max_size=n_comments, unique=True)
    )
    comments = pd.DataFrame(
        {
            "comment-id": comment_ids,
            "author-id": draw(
                st.lists(st.integers(0, n_people - 1), min_size=n_comments, max_size=n_comments)
            ),
            "timestamp": draw(
                st.lists(
                    st.integers(0, 2_000_000_000_000), min_size=n_comments, max_size=n_comments
                )
            ),
            "moderated": draw(
                st.lists(st.sampled_from([-1, 0, 1]), min_size=n_comments, max_size=n_comments)
            ),
            "comment-body": draw(st.lists(texts, min_size=n_comments, max_size=n_comments)),
        }
    )
    events = draw(
        st.lists(
            st.tuples(
                st.integers(0, 10**6),
                st.sampled_from(comment_ids),
                st.integers(0, n_people - 1),
                st.sampled_from([-1, 0, 1]),
            ),
            max_size=30,
        )
    )
    votes = pd.DataFrame(events, columns=["timestamp", "comment-id", "voter-id", "vote"])
    roster = pd.DataFrame(
        {
            "participant": list(range(n_people)),
            "group-id": pd.array(
                draw(
                    st.lists(
                        st.one_of(st.none(), st.integers(0, 3)),
                        min_size=n_people,
                        max_size=n_people,
                    )
                ),
                dtype="Int64",
            ),
        }
    )
    return comments, votes, roster


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(conversations())
def test_write_then_read_is_lossless(tmp_path_factory, data):
    comments, votes, roster = data
    export = make_polis_export(comments, votes, roster, summary={"topic": "t"})
    folder = tmp_path_factory.mktemp("polis")
    write_polis(export, folder)
    again = read_polis(folder)
    pd.testing.assert_frame_equal(export.comments, again.comments, check_dtype=False)
    pd.testing.assert_frame_equal(export.votes, again.votes, check_dtype=False)
    pd.testing.assert_frame_equal(export.participants, again.participants, check_dtype=False)
    assert export.summary == again.summary
    # every cell is that pair's latest vote
    latest = export.latest_votes()
    matrix = export.vote_matrix()
    assert matrix.notna().to_numpy().sum() == len(latest)
    for row in latest.itertuples(index=False):
        assert matrix.loc[row[3], row[2]] == row[4]


def test_copy_of_real_folder_with_extra_files_reads(polis_dir, tmp_path):
    shutil.copytree(polis_dir / "brexit-consensus", tmp_path / "b")
    (tmp_path / "b" / "notes.txt").write_text("ignored")
    assert len(read_polis(tmp_path / "b").comments) == 50


def test_header_only_conversation(tmp_path):
    (tmp_path / "comments.csv").write_text(
        "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
    )
    (tmp_path / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\n")
    export = read_polis(tmp_path)
    assert len(export.comments) == len(export.votes) == len(export.participants) == 0
    write_polis(export, tmp_path / "out")
    assert (
        tmp_path / "out" / "participants-votes.csv"
    ).read_text() == "participant,group-id,n-comments,n-votes,n-agree,n-disagree\n"
