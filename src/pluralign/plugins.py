"""How a feature plugs in: pluggy hooks for CLI commands, web routers, participant-menu links and
store tables.

Built-in features use the same hooks as outside ones (as Datasette's built-ins use its own):
the moral graph (:mod:`pluralign.moralgraph.plugin`, its pages
:mod:`pluralign.moralgraphweb.plugin`), public evaluation
(:mod:`pluralign.publiceval.plugin`), the workbench (:mod:`pluralign.workbench.plugin`)
and the web app's own tables
(:mod:`pluralign.web.plugin`) are listed in :data:`BUILTIN_PLUGINS` by module name, so this
module and everything that calls it (the CLI root, the web app, alembic's environment in the
store) import no feature at import time; the store's migrations get every feature's tables
without importing anything above the store. An installed package adds a feature with an entry
point in the ``pluralign`` group whose object implements some of the hooks below (decorated with
:data:`hookimpl`). docs/architecture.md describes the hooks with an example.

Finding installed entry points means reading the metadata of every installed distribution
(``importlib.metadata``, some 60 ms of the CLI's 0.3 s budget for ``--help``), so the list is
cached (:func:`installed_entry_points`): the cache is keyed on the metadata folders of the
distributions on ``sys.path`` (names and times), which change whenever a package is installed,
upgraded or removed, and a ``pluralign --help`` with a current cache reads one small JSON file
instead.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import pluggy

PROJECT = "pluralign"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: Built-in features, registered in this order (their commands, routers and tables come in it).
BUILTIN_PLUGINS = (
    "pluralign.web.plugin",
    "pluralign.moralgraph.plugin",
    "pluralign.moralgraphweb.plugin",
    "pluralign.publiceval.plugin",
    "pluralign.workbench.plugin",
)


class FeatureSpec:
    """The hooks a feature may implement (each is optional)."""

    @hookspec
    def register_commands(self, app: Any) -> None:
        """Add commands or command groups to the root ``pluralign`` typer app. Keep the
        module's top-level imports light: ``pluralign --help`` imports every feature's CLI."""

    @hookspec
    def web_routers(self) -> list[Any]:
        """FastAPI routers the web app includes (after its own)."""

    @hookspec
    def participant_menu(self) -> list[Any]:
        """Links the feature adds to the participant menu: :class:`pluralign.web.menu.MenuFeature`
        s, each with its links and whether the assembly's participants can use it now (the
        menu shows them after the assembly's own pages, before "Withdraw")."""

    @hookspec
    def store_tables(self) -> list[Any]:
        """SQLAlchemy table modules whose import adds the feature's tables to
        ``pluralign.store.models.Base.metadata`` (alembic's environment and the migration
        check call it; migrations for the tables live in ``store/migrations/versions``)."""


_CACHE_FORMAT = 3  # bump when the key or the file changes shape
_CACHE_KEEP = 64  # cache files kept (the newest), beyond those _prune_cache deletes


def _search_path() -> list[str]:
    """``sys.path`` without its first entry when that is the working folder (``python -m`` or
    ``-c`` in each new folder would otherwise leave a cache file behind; the key still checks
    the working folder's distributions)."""
    return sys.path[1:] if sys.path and sys.path[0] in ("", os.getcwd()) else list(sys.path)


def _cache_file() -> Path:
    """Where the entry-point list is cached: ``$PLURALIGN_CACHE_DIR`` or the user cache folder
    (``$XDG_CACHE_HOME/pluralign``, else ``~/.cache/pluralign``), one file per interpreter and
    ``sys.path`` (two checkouts or virtualenvs do not overwrite each other's)."""
    folder = os.environ.get("PLURALIGN_CACHE_DIR")
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, PROJECT)
    import zlib

    where = "\0".join([str(_CACHE_FORMAT), sys.prefix, *_search_path()])
    env = zlib.crc32(where.encode("utf-8", "surrogateescape"))
    return Path(folder) / f"entry-points-{env:08x}.json"


def _environment_key() -> list[list[Any]]:
    """Every ``sys.path`` entry with its distributions' metadata folders (``*.dist-info``,
    ``*.egg-info``) and their modification times: installing, upgrading or removing a
    distribution creates or deletes such a folder, and nothing else changes what
    ``importlib.metadata`` finds. (A folder's own time would not do: ``python -m`` puts the
    working folder on ``sys.path``, and every file written there changes its time.)"""
    key: list[list[Any]] = []
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as it:
                found = sorted(
                    (d.name, d.stat().st_mtime_ns) for d in it
                    if d.name.endswith((".dist-info", ".egg-info"))
                )
        except NotADirectoryError:  # a zip file on sys.path
            found = [("", os.stat(entry).st_mtime_ns)]
        except OSError:
            found = []
        key.append([entry, [list(f) for f in found]])
    return key


def installed_entry_points() -> list[tuple[str, str]]:
    """``(name, value)`` of every installed entry point in the ``pluralign`` group, sorted.

    Read from the cache when the environment is unchanged; otherwise found through
    ``importlib.metadata`` and the cache rewritten. An unreadable or unwritable cache only
    costs the scan (the list is the same either way)."""
    path, key = _cache_file(), _environment_key()
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if cached.get("key") == key:
            return [(str(name), str(value)) for name, value in cached["entry_points"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # no cache yet, or a stale or damaged one: scan
    from importlib.metadata import entry_points

    found = sorted({(ep.name, ep.value) for ep in entry_points(group=PROJECT)})
    try:
        from pluralign.io import write_json_atomic

        path.parent.mkdir(parents=True, exist_ok=True)
        folders = [p for p in _search_path() if os.path.isdir(p)]
        write_json_atomic(path, {"format": _CACHE_FORMAT, "folders": folders, "key": key,
                                 "entry_points": [list(e) for e in found]})
        _prune_cache(path)
    except OSError:
        pass  # a read-only home: scan again next time
    return found


def _prune_cache(current: Path) -> None:
    """Delete the cache files beside ``current`` that no command will read again: another
    format's, those of a ``sys.path`` with a folder that is gone (a removed checkout or
    virtualenv, a test's temporary folder), and all but the newest :data:`_CACHE_KEEP`.
    (Run after each scan only: a command that reads its cache touches no other file.)"""
    kept = []
    for path in current.parent.glob("entry-points-*.json"):
        if path == current:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            live = data["format"] == _CACHE_FORMAT and all(map(os.path.isdir, data["folders"]))
            when = path.stat().st_mtime_ns
        except (OSError, ValueError, KeyError, TypeError):
            live = False  # damaged, or deleted meanwhile by another command
        if live:
            kept.append((when, path))
            continue
        path.unlink(missing_ok=True)
    for _, path in sorted(kept, reverse=True)[_CACHE_KEEP - 1:]:
        path.unlink(missing_ok=True)


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    """The plugin manager with the built-in features and every installed ``pluralign`` entry
    point registered (once per process)."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(FeatureSpec)
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    found = installed_entry_points()
    if found:
        from importlib.metadata import EntryPoint

        for name, value in found:
            if pm.get_plugin(name) is None and not pm.is_blocked(name):
                pm.register(EntryPoint(name, value, PROJECT).load(), name=name)
    return pm


def _call_in_order(hook_name: str, **kwargs: Any) -> list[Any]:
    """Call a hook's implementations in registration order (pluggy's own call order is the
    reverse), so commands and routers keep the order of :data:`BUILTIN_PLUGINS`."""
    hook = getattr(plugin_manager().hook, hook_name)
    results = [impl.function(**kwargs) for impl in hook.get_hookimpls()]
    return [r for r in results if r is not None]


def register_commands(app: Any) -> None:
    """Let every feature add its commands to the root typer ``app``."""
    _call_in_order("register_commands", app=app)


def web_routers() -> list[Any]:
    """Every feature's routers, in registration order."""
    return [r for routers in _call_in_order("web_routers") for r in routers]


def participant_menu() -> list[Any]:
    """Every feature's participant-menu entries, in registration order."""
    return [f for features in _call_in_order("participant_menu") for f in features]


def store_tables() -> list[Any]:
    """Import every feature's table modules (their tables join ``Base.metadata``)."""
    return [m for mods in _call_in_order("store_tables") for m in mods]
