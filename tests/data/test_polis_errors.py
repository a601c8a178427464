"""Malformed Polis folders: each error names the file, the line and the column."""

from __future__ import annotations

import pytest

from pluralign.data.polis import read_polis
from pluralign.errors import InputError

COMMENTS = """timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body
1000,Thu Jan 01 00:00:01 UTC 1970,0,0,1,0,1,First statement
2000,Thu Jan 01 00:00:02 UTC 1970,1,1,1,1,1,"Second, with a comma"
"""
VOTES = """timestamp,datetime,comment-id,voter-id,vote
3000,Thu Jan 01 00:00:03 UTC 1970,0,1,1
2000,Thu Jan 01 00:00:02 UTC 1970,1,1,1
4000,Thu Jan 01 00:00:04 UTC 1970,1,2,-1
"""
PARTICIPANTS = """participant,group-id,n-comments,n-votes,n-agree,n-disagree,0,1
0,,1,0,0,0,,
1,0,1,2,2,0,1,1
2,1,0,1,0,1,,-1
"""


def folder(tmp_path, comments=COMMENTS, votes=VOTES, participants=PARTICIPANTS):
    path = tmp_path / "conv"
    path.mkdir(exist_ok=True)
    for name, text in (
        ("comments.csv", comments),
        ("votes.csv", votes),
        ("participants-votes.csv", participants),
    ):
        if text is not None:
            (path / name).write_text(text)
    return path


def error(path) -> str:
    with pytest.raises(InputError) as info:
        read_polis(path)
    return str(info.value)


def test_the_valid_folder_reads(tmp_path):
    export = read_polis(folder(tmp_path))
    assert list(export.comments["comment-body"]) == ["First statement", "Second, with a comma"]
    assert len(export.votes) == 3


def test_missing_column(tmp_path):
    text = VOTES.replace(",vote\n", ",value\n", 1)
    msg = error(folder(tmp_path, votes=text))
    assert "votes.csv, line 1" in msg and "missing column 'vote'" in msg


def test_non_integer_vote(tmp_path):
    text = VOTES.replace(
        "4000,Thu Jan 01 00:00:04 UTC 1970,1,2,-1", "4000,Thu Jan 01 00:00:04 UTC 1970,1,2,agree"
    )
    msg = error(folder(tmp_path, votes=text))
    assert "votes.csv, line 4, column 'vote': expected an integer, found 'agree'" in msg


def test_vote_value_out_of_range(tmp_path):
    text = VOTES.replace(
        "3000,Thu Jan 01 00:00:03 UTC 1970,0,1,1", "3000,Thu Jan 01 00:00:03 UTC 1970,0,1,2"
    )
    msg = error(folder(tmp_path, votes=text))
    assert "votes.csv, line 2, column 'vote': value 2 is not one of [-1, 0, 1]" in msg


def test_unknown_comment_in_votes(tmp_path):
    text = VOTES.replace(
        "2000,Thu Jan 01 00:00:02 UTC 1970,1,1,1", "2000,Thu Jan 01 00:00:02 UTC 1970,7,1,1"
    )
    msg = error(folder(tmp_path, votes=text))
    assert "votes.csv, line 3, column 'comment-id': comment id 7 is not in comments.csv" in msg


def test_bad_quoting(tmp_path):
    text = COMMENTS.replace('"Second, with a comma"', '"Second" with a stray quote')
    msg = error(folder(tmp_path, comments=text))
    assert "comments.csv, line 3" in msg and "malformed CSV" in msg


def test_unclosed_quote_reports_its_line(tmp_path):
    text = COMMENTS.replace('"Second, with a comma"', '"Second, never closed')
    msg = error(folder(tmp_path, comments=text))
    assert "comments.csv, line" in msg and "malformed CSV" in msg


def test_unquoted_comma_gives_field_count(tmp_path):
    text = COMMENTS.replace('"Second, with a comma"', "Second, with a comma")
    msg = error(folder(tmp_path, comments=text))
    assert "comments.csv, line 3: 9 fields but the header has 8" in msg


def test_multiline_body_keeps_line_numbers(tmp_path):
    text = (
        COMMENTS.replace('"Second, with a comma"', '"Second,\nover two lines"')
        + "3000,x,2,1,0,0,5,Third\n"
    )
    msg = error(folder(tmp_path, comments=text))
    # the header is line 1, the two-line record lines 3-4, so the bad row is line 5
    assert "comments.csv, line 5, column 'moderated': value 5 is not one of [-1, 0, 1]" in msg


def test_duplicate_comment_id(tmp_path):
    text = COMMENTS + "3000,x,1,0,0,0,1,Again\n"
    msg = error(folder(tmp_path, comments=text))
    assert "comments.csv, line 4, column 'comment-id': comment id 1 already used on line 3" in msg


def test_participants_cell_disagrees_with_votes(tmp_path):
    text = PARTICIPANTS.replace("2,1,0,1,0,1,,-1", "2,1,0,1,0,1,,1")
    msg = error(folder(tmp_path, participants=text))
    assert "participants-votes.csv, line 4, column '1'" in msg
    assert "latest vote in votes.csv is -1" in msg


def test_participants_unknown_comment_column(tmp_path):
    text = PARTICIPANTS.replace("n-disagree,0,1\n", "n-disagree,0,9\n")
    msg = error(folder(tmp_path, participants=text))
    assert "participants-votes.csv, line 1, column '9'" in msg


def test_missing_files_and_empty_file(tmp_path):
    assert "votes.csv not found" in error(folder(tmp_path, votes=None))
    (tmp_path / "conv" / "votes.csv").write_text("")
    assert "votes.csv, line 1: the file is empty" in error(tmp_path / "conv")
    assert "not a folder" in error(tmp_path / "nowhere")


def test_not_utf8(tmp_path):
    path = folder(tmp_path)
    (path / "comments.csv").write_bytes(COMMENTS.encode().replace(b"First", b"F\xffirst"))
    assert "not UTF-8" in error(path)
