"""Polis export folders: read, validate, write, and move them in and out of the store.

``read_polis(dir) -> PolisExport`` and ``write_polis(export, dir)`` work on files alone;
``make_polis_export`` builds an export from plain comments/votes frames (the simulator and the
store exporter use it); ``import_polis(store, dir, slug)`` and ``export_polis(store, slug, dir)``
move a conversation into and out of the store. Format notes: ``docs/formats.md``.
"""

from pluralign.data.polis_store import (
    assembly_to_polis,
    export_polis,
    import_polis,
    load_polis_export,
    simulated_participants,
)
from pluralign.formats.polis import (
    COMMENT_COLUMNS,
    COMMENTS_FILE,
    PARTICIPANT_COLUMNS,
    PARTICIPANTS_FILE,
    SUMMARY_FILE,
    SUMMARY_KEYS,
    VOTE_COLUMNS,
    VOTES_FILE,
    PolisClock,
    PolisExport,
    make_polis_export,
    write_polis,
)
from pluralign.formats.polis_read import read_polis

__all__ = [
    "COMMENT_COLUMNS",
    "COMMENTS_FILE",
    "PARTICIPANT_COLUMNS",
    "PARTICIPANTS_FILE",
    "SUMMARY_FILE",
    "SUMMARY_KEYS",
    "VOTE_COLUMNS",
    "VOTES_FILE",
    "PolisClock",
    "PolisExport",
    "make_polis_export",
    "read_polis",
    "write_polis",
    "assembly_to_polis",
    "export_polis",
    "import_polis",
    "load_polis_export",
    "simulated_participants",
]
