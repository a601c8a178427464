"""The participant menu: one list of links for every participant page (statements, moral graph,
public evaluation), showing only what the participant can use right now.

``Values`` and ``Wisdom upgrades`` appear when the organisers added at least one moral-graph case;
``Rate answers`` when the public evaluation is open. Both facts are read from the database at
most every :data:`CACHE_SECONDS` per assembly and process (a menu may lag a change by that long).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import func, select

CACHE_SECONDS = 2.0

# (key, path below /a/<slug>/, the feature it needs or None). Labels are in the template,
# where they are marked for translation.
ITEMS = (
    ("vote", "vote", None),
    ("propose", "propose", None),
    ("map", "map", None),
    ("values", "values", "values"),
    ("upgrades", "upgrades", "values"),
    ("rate", "rate", "rating"),
    ("withdraw", "withdraw", None),
)


@dataclass(frozen=True)
class MenuItem:
    key: str
    href: str
    current: bool


_cache: dict[tuple[str, int], tuple[float, frozenset]] = {}
_lock = threading.Lock()


def features(store, assembly_id: int) -> frozenset:
    """Which optional features the assembly's participants can use now (cached)."""
    key = (str(store.url), assembly_id)
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] <= CACHE_SECONDS:
        return hit[1]
    from pluralign.moralgraph.models import MoralCase
    from pluralign.publiceval.models import OPEN, PublicEval

    with store.session() as s:
        cases = s.scalar(
            select(func.count()).select_from(MoralCase).where(MoralCase.assembly_id == assembly_id)
        )
        rating = s.scalar(
            select(func.count())
            .select_from(PublicEval)
            .where(PublicEval.assembly_id == assembly_id, PublicEval.state == OPEN)
        )
    found = frozenset(name for name, on in (("values", cases), ("rating", rating)) if on)
    with _lock:
        _cache[key] = (time.monotonic(), found)
    return found


def forget(store) -> None:
    """Drop the store's cached facts (after an organiser changed them in this process)."""
    url = str(store.url)
    with _lock:
        for key in [k for k in _cache if k[0] == url]:
            del _cache[key]


def participant_menu(store, assembly, path: str) -> list[MenuItem]:
    """The menu of ``assembly`` for a page at ``path`` (marks the current page)."""
    on = features(store, assembly.id)
    items = []
    for key, sub, needs in ITEMS:
        if needs is not None and needs not in on:
            continue
        href = f"/a/{assembly.slug}/{sub}"
        items.append(MenuItem(key, href, path == href or path.startswith(href + "/")))
    return items
