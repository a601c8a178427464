"""Constitution: clauses drafted from cross-group consensus, each with its provenance.

Public API::

    from pluralign.aggregate import aggregate, read_polis
    from pluralign.constitution import draft_constitution, Constitution
    c = draft_constitution(aggregate(read_polis("conv/"), seed=0))
    Path("constitution.yaml").write_text(c.to_yaml())
    c2 = Constitution.from_yaml(Path("constitution.yaml").read_text(), "constitution.yaml")
"""

from pluralign.constitution.draft import (
    FORMAT,
    Clause,
    Constitution,
    DraftSettings,
    Evidence,
    GroupVotes,
    candidates,
    draft_constitution,
)

__all__ = [
    "FORMAT",
    "Clause",
    "Constitution",
    "DraftSettings",
    "Evidence",
    "GroupVotes",
    "candidates",
    "draft_constitution",
    "load_constitution",
    "write_constitution",
]


def load_constitution(path):
    """Read and validate a constitution.yaml file."""
    from pathlib import Path

    from pluralign.errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", where=str(path))
    return Constitution.from_yaml(path.read_text(encoding="utf-8"), str(path))


def write_constitution(constitution, out):
    """Write OUT/constitution.yaml and OUT/constitution.md atomically; returns both paths."""
    import os
    import tempfile
    from pathlib import Path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in (
        ("constitution.yaml", constitution.to_yaml()),
        ("constitution.md", constitution.to_markdown()),
    ):
        fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, out / name)
        paths.append(out / name)
    return tuple(paths)
