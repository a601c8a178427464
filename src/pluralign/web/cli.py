"""``pluralign web`` (serve the assembly web app) and ``pluralign admin`` (organiser accounts)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import DbOption, console

admin_app = typer.Typer(help="Organiser accounts of the web app.", no_args_is_help=True)


def check_port_free(host: str, port: int) -> None:
    """Raise an :class:`~pluralign.errors.InputError` naming ``--port`` when ``host:port``
    cannot be listened on (another server holds it, or the port is privileged), before the
    banner says the app is up."""
    import errno
    import socket

    from pluralign.errors import InputError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError(f"cannot listen on '{host}': {exc.strerror}", where="--host") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(
                    f"port {port} on {host} is already in use",
                    where="--port",
                    hint="stop the other server or pass another --port",
                ) from None
            raise InputError(
                f"cannot listen on {host}:{port}: {exc.strerror}", where="--port"
            ) from None


def web_cmd(
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes (PostgreSQL recommended).")
    ] = 1,
    rate_per_minute: Annotated[
        float,
        typer.Option("--rate-limit", help="Votes+statements one participant may send per minute."),
    ] = 60.0,
    burst: Annotated[int, typer.Option("--burst", help="... and in one burst.")] = 20,
    secure_cookies: Annotated[
        bool,
        typer.Option(
            "--secure-cookies/--no-secure-cookies",
            help="Send cookies over HTTPS only (use behind a TLS proxy).",
        ),
    ] = False,
    constitution_embedder: Annotated[
        str,
        typer.Option(
            "--constitution-embedder",
            help="Merging near-duplicate clauses in the constitution export: tfidf (light) or "
            "auto/minilm (loads torch into the server).",
        ),
    ] = "tfidf",
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            envvar="PLURALIGN_WEB_PUBLIC_URL",
            help="The address participants open (e.g. https://assembly.example.org): the base "
            "of invitation links. Default: http://HOST:PORT unless HOST is 0.0.0.0 or ::.",
        ),
    ] = None,
    workbench_dir: Annotated[
        Path,
        typer.Option(
            "--workbench-dir",
            help="Folder of the workbench's jobs (practice data, trained models, logs).",
        ),
    ] = Path("workbench"),
    workbench_llm: Annotated[
        Path | None,
        typer.Option(
            "--workbench-llm",
            help="Provider YAML of the workbench's interview and practice (as --provider-config;"
            " default: the embedded SmolLM2-135M-Instruct).",
        ),
    ] = None,
    workbench_base_model: Annotated[
        str,
        typer.Option(
            "--workbench-base-model",
            help="Model the workbench's integration page trains: smollm2 or a checkpoint folder.",
        ),
    ] = "smollm2",
    log_level: Annotated[
        str, typer.Option("--log-level", help="uvicorn log level (debug also logs every request).")
    ] = "info",
) -> None:
    """Serve the assembly web app (participants at /a/<slug>, organisers at /admin)."""
    from pluralign.errors import require
    from pluralign.store import open_store
    from pluralign.store.session import resolve_url

    uvicorn = require("uvicorn", "web")
    from pluralign.errors import InputError
    from pluralign.models.embed import METHODS

    if constitution_embedder not in METHODS:
        raise InputError(
            f"unknown embedder '{constitution_embedder}'",
            where="--constitution-embedder",
            hint=f"use one of {', '.join(METHODS)}",
        )
    check_port_free(host, port)
    if workbench_llm is not None:
        from pluralign.llm.config import provider_settings_from_yaml

        provider_settings_from_yaml(workbench_llm)  # a bad file fails here, not at the first turn
    from pluralign.web.app import public_base_url

    if public_url is None and host not in ("0.0.0.0", "::", ""):
        public_url = f"http://{host}:{port}"
    public_url = public_base_url(public_url or "")
    url = resolve_url(db)
    open_store(url).dispose()  # create/migrate once, before workers start
    os.environ.update(
        {
            "PLURALIGN_DATABASE_URL": url,
            "PLURALIGN_WEB_RATE_PER_MINUTE": str(rate_per_minute),
            "PLURALIGN_WEB_BURST": str(burst),
            "PLURALIGN_WEB_SECURE_COOKIES": "1" if secure_cookies else "0",
            "PLURALIGN_WEB_CONSTITUTION_EMBEDDER": constitution_embedder,
            "PLURALIGN_WEB_PUBLIC_URL": public_url,
            "PLURALIGN_WEB_WORKBENCH_DIR": str(workbench_dir.resolve()),
            "PLURALIGN_WEB_WORKBENCH_LLM": str(workbench_llm.resolve()) if workbench_llm else "",
            "PLURALIGN_WEB_WORKBENCH_BASE_MODEL": workbench_base_model,
        }
    )
    if not public_url:
        console.print(
            "[yellow]note:[/] no --public-url: invitation links show as paths (/a/...); "
            "set it to the address participants open, e.g. https://assembly.example.org"
        )
    if url.startswith("sqlite") and workers > 1:
        console.print(
            "[yellow]note:[/] SQLite serialises writers; with several workers they wait on "
            "each other. Use one worker with SQLite, or PostgreSQL for several."
        )
    console.print(f"pluralign web on http://{host}:{port}  (organisers: /admin)")
    uvicorn.run(
        "pluralign.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=True,
        access_log=log_level == "debug",
    )


@admin_app.command("create-user")
def create_user_cmd(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option("--role", help="admin or moderator.")] = "admin",
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar="PLURALIGN_ADMIN_PASSWORD",
            help="Password (prompted when omitted; prefer the prompt or the env variable).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Create an organiser account (password stored as an argon2id hash)."""
    import sys

    from pluralign.errors import InputError
    from pluralign.store import open_store
    from pluralign.web.security import create_user

    if password is None:
        if not sys.stdin.isatty():
            raise InputError(
                "no password given, and no terminal to ask for one",
                where="--password",
                hint="set PLURALIGN_ADMIN_PASSWORD (or pass --password), or run it in a terminal",
            )
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    store = open_store(db)
    try:
        with store.session() as s:
            create_user(s, username, password, role)
    finally:
        store.dispose()
    console.print(f"created {role} '{username}'")


def register(app: typer.Typer) -> None:
    app.command("web")(web_cmd)
    app.add_typer(admin_app, name="admin")
