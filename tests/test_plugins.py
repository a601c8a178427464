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
    ]
    from pluralign.moralgraph.web import router as moral_router
    from pluralign.publiceval.web import router as public_router

    assert plugins.web_routers() == [moral_router, public_router]
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
