"""How a feature plugs in: pluggy hooks for CLI commands, web routers and store tables.

Built-in features use the same hooks as outside ones (as Datasette's built-ins use its own):
the moral graph (:mod:`pluralign.moralgraph.plugin`), public evaluation
(:mod:`pluralign.publiceval.plugin`) and the web app's own tables
(:mod:`pluralign.web.plugin`) are listed in :data:`BUILTIN_PLUGINS` by module name, so this
module and everything that calls it (the CLI root, the web app, alembic's environment in the
store) import no feature at import time; the store's migrations get every feature's tables
without importing anything above the store. An installed package adds a feature with an entry
point in the ``pluralign`` group whose object implements some of the hooks below (decorated with
:data:`hookimpl`). docs/architecture.md describes the hooks with an example.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

import pluggy

PROJECT = "pluralign"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: Built-in features, registered in this order (their commands, routers and tables come in it).
BUILTIN_PLUGINS = (
    "pluralign.web.plugin",
    "pluralign.moralgraph.plugin",
    "pluralign.publiceval.plugin",
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
    def store_tables(self) -> list[Any]:
        """SQLAlchemy table modules whose import adds the feature's tables to
        ``pluralign.store.models.Base.metadata`` (alembic's environment and the migration
        check call it; migrations for the tables live in ``store/migrations/versions``)."""


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    """The plugin manager with the built-in features and every installed ``pluralign`` entry
    point registered (once per process)."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(FeatureSpec)
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    pm.load_setuptools_entrypoints(PROJECT)
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


def store_tables() -> list[Any]:
    """Import every feature's table modules (their tables join ``Base.metadata``)."""
    return [m for mods in _call_in_order("store_tables") for m in mods]
