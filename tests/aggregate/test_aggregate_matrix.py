"""Vote matrix: latest vote wins, passes are seen, moderation, in-conversation filter, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pluralign.aggregate import from_votes, in_conversation, read_polis
from pluralign.errors import InputError


def test_latest_vote_counts_and_pass_is_seen():
    votes = pd.DataFrame(
        {
            "participant": [1, 1, 2, 2, 1],
            "statement": [10, 11, 10, 11, 10],
            "value": [1, 0, -1, 1, -1],
            "created_at": [1, 2, 3, 4, 5],
        }
    )
    m = from_votes(votes)
    assert list(m.participants) == [1, 2]
    assert list(m.statements) == [10, 11]
    dense = m.to_dense()
    # participant 1 changed their vote on 10 from agree to disagree; passed on 11
    np.testing.assert_array_equal(dense, [[-1, 0], [-1, 1]])
    assert m.n_votes == 4
    agree, disagree, passes = m.counts()
    assert list(agree) == [0, 1] and list(disagree) == [2, 0] and list(passes) == [0, 1]
    assert list(m.vote_counts) == [2, 2]


def test_excluded_statement_counts_for_participation_but_has_no_column():
    votes = pd.DataFrame({"participant": [0, 0, 1], "statement": [1, 2, 2], "value": [1, 1, -1]})
    m = from_votes(votes, exclude={1})
    assert list(m.statements) == [2]
    assert list(m.vote_counts) == [2, 1]
    assert m.excluded_statements == (1,)


def test_unseen_is_missing_not_pass():
    votes = pd.DataFrame({"participant": [0, 1], "statement": [0, 1], "value": [0, 1]})
    dense = from_votes(votes).to_dense()
    assert dense[0, 0] == 0 and np.isnan(dense[0, 1]) and np.isnan(dense[1, 0])


def test_bad_vote_value_is_an_input_error():
    votes = pd.DataFrame({"participant": [0], "statement": [0], "value": [2]})
    with pytest.raises(InputError, match="not 1, -1 or 0"):
        from_votes(votes)


def test_in_conversation_threshold_and_greedy_fill():
    counts = np.array([7, 6, 10, 1, 0, 3])
    # six statements: threshold is min(7, 6) = 6
    assert list(in_conversation(counts, 6, greedy_n=2)) == [True, True, True, False, False, False]
    # threshold 7 keeps two; greedy fill to 4 adds the most active others (6 votes, 3 votes)
    assert list(in_conversation(counts, 50, greedy_n=4)) == [True, True, True, False, False, True]


def write_polis(folder, comments: str, votes: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "comments.csv").write_text(comments)
    (folder / "votes.csv").write_text(votes)
    return folder


COMMENTS = (
    "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
    "1,x,0,0,1,0,1,First\n2,x,1,0,0,1,-1,Spam\n3,x,2,0,0,0,0,Unmoderated\n"
)


def test_read_polis_moderation(tmp_path):
    votes = (
        "timestamp,datetime,comment-id,voter-id,vote\n"
        "10,x,0,5,1\n11,x,1,5,-1\n12,x,2,6,0\n13,x,0,6,-1\n"
    )
    folder = write_polis(tmp_path / "conv", COMMENTS, votes)
    m = read_polis(folder)
    assert list(m.statements) == [0, 2]
    assert m.texts == ("First", "Unmoderated")
    assert len(m.source_sha256) == 64
    strict = read_polis(folder, strict_moderation=True)
    assert list(strict.statements) == [0]


def test_read_polis_errors_name_file_line_and_column(tmp_path):
    with pytest.raises(InputError, match="not a folder"):
        read_polis(tmp_path / "missing")
    folder = write_polis(tmp_path / "a", COMMENTS, "timestamp,comment-id,voter-id\n1,0,1\n")
    with pytest.raises(InputError, match=r"votes.csv, line 1: missing column 'vote'"):
        read_polis(folder)
    votes = "timestamp,comment-id,voter-id,vote\n1,0,1,1\n2,0,2,5\n"
    folder = write_polis(tmp_path / "b", COMMENTS, votes)
    with pytest.raises(InputError, match=r"votes.csv, line 3, column 'vote'"):
        read_polis(folder)
    folder = write_polis(tmp_path / "c", COMMENTS, "timestamp,comment-id,voter-id,vote\n1,0,,1\n")
    with pytest.raises(
        InputError, match=r"line 2, column 'voter-id': expected an integer, found an empty cell"
    ):
        read_polis(folder)
    header_only = COMMENTS.splitlines()[0] + "\n"
    folder = write_polis(tmp_path / "d", header_only, "timestamp,comment-id,voter-id,vote\n")
    with pytest.raises(InputError, match=r"comments.csv, line 1: no comments"):
        read_polis(folder)


def test_read_real_polis_export(polis_dir):
    m = read_polis(polis_dir / "brexit-consensus")
    pv = pd.read_csv(polis_dir / "brexit-consensus" / "participants-votes.csv")
    assert m.shape == (len(pv), 50)
    # participants-votes.csv lists each participant's final vote: the matrix must agree
    row = pv.set_index("participant").loc[m.participants[3], [str(s) for s in m.statements]]
    dense = m.to_dense()[3]
    np.testing.assert_array_equal(np.nan_to_num(dense, nan=9), row.fillna(9).to_numpy(dtype=float))


def test_read_polis_keeps_whom_polis_clustered_not_the_labels(tmp_path):
    votes = "timestamp,datetime,comment-id,voter-id,vote\n10,x,0,5,1\n11,x,0,6,-1\n12,x,0,7,1\n"
    folder = write_polis(tmp_path / "conv", COMMENTS, votes)
    assert read_polis(folder).clustered is None  # no participants-votes.csv: no record
    (folder / "participants-votes.csv").write_text(
        "participant,group-id,n-comments,n-votes\n5,1,0,1\n6,,0,1\n7,0,0,1\n"
    )
    m = read_polis(folder)
    assert list(m.participants) == [5, 6, 7]
    assert m.clustered.dtype == bool and list(m.clustered) == [True, False, True]
    # a roster with every group-id empty (e.g. the simulator's export) is no record
    (folder / "participants-votes.csv").write_text("participant,group-id\n5,\n6,\n7,\n")
    assert read_polis(folder).clustered is None
    (folder / "participants-votes.csv").write_text("participant,group-id\n5,1\nfive,0\n")
    with pytest.raises(InputError, match=r"participants-votes.csv, line 3, column 'participant'"):
        read_polis(folder)


def test_real_exports_record_whom_polis_clustered(polis_dir):
    # football-concussions: Polis clustered 1 434 of 1 487, many with a single vote (an older
    # Polis clustered everyone); the 7-vote rule alone admits 592
    m = read_polis(polis_dir / "football-concussions")
    assert int(m.clustered.sum()) == 1434
    assert int((m.clustered & (m.vote_counts == 1)).sum()) > 300
    assert int(in_conversation(m.vote_counts, m.shape[1] + len(m.excluded_statements)).sum()) == 592
