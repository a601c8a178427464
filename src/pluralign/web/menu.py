"""The participant menu: one list of links for every participant page, showing only what the
participant can use right now.

The assembly's own pages (vote, propose, map) come first and "Withdraw" last; features add
theirs in between through the ``participant_menu`` hook of :mod:`pluralign.plugins`, each a
:class:`MenuFeature` whose links show while its ``available`` check says so (the moral graph's
"Values" and "Wisdom upgrades" once the organisers added a case, public evaluation's "Rate
answers" while an evaluation is open). Those facts are read from the database at most every
:data:`CACHE_SECONDS` per assembly and process (a menu may lag a change by that long; an
organiser's change in this process calls :func:`forget`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pluralign.errors import N_

CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class MenuLink:
    """One link: ``key`` names it (the link's id is ``nav-<key>``), ``path`` is below
    ``/a/<slug>/`` and ``label`` is marked with :func:`~pluralign.errors.N_` (translated on the
    page)."""

    key: str
    path: str
    label: str


@dataclass(frozen=True)
class MenuFeature:
    """Links a feature adds to the menu, shown while ``available(session, assembly_id)`` is true
    (one check per feature, run in one session with the others' when the cache is refreshed)."""

    name: str
    links: tuple[MenuLink, ...]
    available: Callable[[Any, int], bool]


BEFORE = (
    MenuLink("vote", "vote", N_("Vote")),
    MenuLink("propose", "propose", N_("Propose a statement")),
    MenuLink("map", "map", N_("Opinion map")),
)
AFTER = (MenuLink("withdraw", "withdraw", N_("Withdraw")),)


@dataclass(frozen=True)
class MenuItem:
    key: str
    href: str
    current: bool
    label: str


_cache: dict[tuple[str, int], tuple[float, frozenset]] = {}
_lock = threading.Lock()


def menu_features() -> list[MenuFeature]:
    """Every feature's menu entries (the ``participant_menu`` hook), in registration order."""
    from pluralign.plugins import participant_menu

    return participant_menu()


def features(store, assembly_id: int) -> frozenset:
    """The names of the features the assembly's participants can use now (cached)."""
    key = (str(store.url), assembly_id)
    hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] <= CACHE_SECONDS:
        return hit[1]
    with store.session() as s:
        found = frozenset(f.name for f in menu_features() if f.available(s, assembly_id))
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
    links = [*BEFORE]
    for feature in menu_features():
        if feature.name in on:
            links += feature.links
    links += AFTER
    items = []
    for link in links:
        href = f"/a/{assembly.slug}/{link.path}"
        current = path == href or path.startswith(href + "/")
        items.append(MenuItem(link.key, href, current, link.label))
    return items
