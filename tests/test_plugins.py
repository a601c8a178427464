"""Features plug in through the pluggy hooks of :mod:`pluralign.plugins`: the built-in moral
graph and public evaluation add their commands, routers and tables that way, and so can an
outside plugin."""

from __future__ import annotations

import typer

from pluralign import plugins
from pluralign.plugins import hookimpl


def test_builtin_features_register_tables_routers_and_commands():
    names = [m.__name__ for m in plugins.store_tables()]
    assert names == [
        "pluralign.web.models",
        "pluralign.moralgraph.models",
        "pluralign.publiceval.models",
        "pluralign.workbench.models",
    ]
    from pluralign.moralgraphweb.pages import router as moral_router
    from pluralign.publiceval.web import router as public_router
    from pluralign.workbench.web import router as workbench_router

    assert plugins.web_routers() == [moral_router, public_router, workbench_router]
    menu = [(f.name, [link.key for link in f.links]) for f in plugins.participant_menu()]
    assert menu == [("values", ["values", "upgrades"]), ("rating", ["rate"])]
    app = typer.Typer()
    plugins.register_commands(app)
    assert [g.name for g in app.registered_groups] == ["moralgraph", "eval-public"]


class _Polls:
    @hookimpl
    def register_commands(self, app):
        @app.command("polls")
        def polls() -> None:
            """Polls from a test plugin."""
            typer.echo("polls ran")

    @hookimpl
    def web_routers(self):
        from fastapi import APIRouter

        router = APIRouter()

        @router.get("/polls-plugin")
        def hello():
            return {"plugin": "polls"}

        return [router]


def test_an_outside_plugin_adds_a_command_and_a_page(tmp_path):
    pm = plugins.plugin_manager()
    plugin = _Polls()
    pm.register(plugin, name="test-polls")
    try:
        app = typer.Typer()
        plugins.register_commands(app)
        assert [c.name for c in app.registered_commands] == ["polls"]
        from fastapi.testclient import TestClient

        from pluralign.web.app import create_app

        client = TestClient(create_app(f"sqlite:///{tmp_path / 'p.db'}"))
        assert client.get("/polls-plugin").json() == {"plugin": "polls"}
    finally:
        pm.unregister(name="test-polls")
    assert all(r is not plugin for r in pm.get_plugins())


PLUGIN = '''
import typer
from pluralign.plugins import hookimpl

@hookimpl
def register_commands(app):
    @app.command("polls")
    def polls() -> None:
        """Polls from an installed plugin."""
        typer.echo("polls ran")
'''


def test_an_installed_entry_point_plugs_in_and_the_cache_follows_installs(tmp_path):
    """A distribution with a ``pluralign`` entry point adds its command to ``pluralign``; the
    cached entry-point list notices the distribution's removal (its folder's time changes)."""
    import json
    import shutil
    import subprocess
    import sys

    from conftest import REPO

    site, cache = tmp_path / "site", tmp_path / "cache"
    (site / "polls_plugin").mkdir(parents=True)
    (site / "polls_plugin" / "__init__.py").write_text(PLUGIN, encoding="utf-8")
    dist = site / "polls_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: polls-plugin\nVersion: 0.1\n",
                                   encoding="utf-8")
    (dist / "entry_points.txt").write_text("[pluralign]\npolls = polls_plugin\n",
                                           encoding="utf-8")
    env = {"PYTHONPATH": f"{REPO / 'src'}:{site}", "PATH": "/usr/bin:/bin",
           "PLURALIGN_CACHE_DIR": str(cache), "COLUMNS": "120"}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "pluralign", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=120)

    assert "Polls from an installed plugin." in cli("--help").stdout  # scanned
    assert cli("polls").stdout == "polls ran\n"  # from the cache
    cached = json.loads(next(cache.glob("*.json")).read_text(encoding="utf-8"))
    assert cached["entry_points"] == [["polls", "polls_plugin"]]
    shutil.rmtree(dist)  # as `pip uninstall` does
    assert "polls" not in cli("--help").stdout
    r = cli("polls")
    assert r.returncode == 2 and "No such command 'polls'" in r.stderr


def test_a_scan_prunes_the_cache_files_no_command_will_read_again(tmp_path, monkeypatch):
    """Each ``sys.path`` has its own cache file (tests with a temporary folder on it, removed
    checkouts): a scan deletes another format's, those naming a folder that is gone, damaged
    ones, and all but the newest ``_CACHE_KEEP``; nothing else in the folder."""
    import json
    import os

    cache, gone = tmp_path / "cache", tmp_path / "removed-checkout"
    (cache / "models").mkdir(parents=True)  # the model cache beside it stays

    def cached(n, when, **data):
        path = cache / f"entry-points-{n:08x}.json"
        path.write_text(json.dumps({"key": [], "entry_points": [], **data}), encoding="utf-8")
        os.utime(path, ns=(when, when))

    cached(1, 1)  # the previous format's (no "format")
    cached(2, 2, format=plugins._CACHE_FORMAT, folders=[str(gone)])
    cached(3, 3, format=plugins._CACHE_FORMAT, folders=[str(tmp_path)])
    (cache / "entry-points-00000004.json").write_text("{damaged", encoding="utf-8")
    monkeypatch.setenv("PLURALIGN_CACHE_DIR", str(cache))
    assert not plugins._cache_file().exists()
    plugins.installed_entry_points()  # no cache for this sys.path: a scan, then the pruning
    current = plugins._cache_file().name

    def names():
        return sorted(p.name for p in cache.iterdir())

    assert names() == sorted([current, "entry-points-00000003.json", "models"])
    assert plugins.installed_entry_points() is not None and names() == sorted(
        [current, "entry-points-00000003.json", "models"])  # a cache hit deletes nothing

    monkeypatch.setattr(plugins, "_CACHE_KEEP", 3)
    for n in range(5, 9):
        cached(n, n, format=plugins._CACHE_FORMAT, folders=[str(tmp_path)])
    (cache / current).unlink()
    plugins.installed_entry_points()
    assert names() == sorted(
        [current, "entry-points-00000007.json", "entry-points-00000008.json", "models"])
