"""Opening the store: SQLite file by default, PostgreSQL by URL; schema managed by alembic."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pluralign.errors import StoreError

ENV_URL = "PLURALIGN_DATABASE_URL"
DEFAULT_PATH = "pluralign.db"
MIGRATIONS = Path(__file__).parent / "migrations"


def resolve_url(db: str | None = None) -> str:
    """The database URL: ``db`` (a URL or a file path), else ``$PLURALIGN_DATABASE_URL``,
    else the SQLite file ``pluralign.db`` in the working directory."""
    value = db or os.environ.get(ENV_URL) or DEFAULT_PATH
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    if value.startswith("postgresql://") or value.startswith("postgres://"):
        # psycopg 3 is the driver we ship in the [postgres] extra.
        value = "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}", hint="use a file path or a URL") from exc
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"the driver for {parsed.get_backend_name()} is not installed ({exc})",
            hint="pip install 'pluralign[postgres]'",
        ) from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with alembic (creates it on an empty database)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def head_revision() -> str | None:
    """The newest migration's revision, read from the ``revision = ...`` and ``down_revision =
    ...`` lines of the scripts in ``migrations/versions`` (what alembic finds, which
    tests/store/test_store.py checks), or None unless they end in one head."""
    import re

    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision = re.search(r"^revision\b[^=]*=\s*['\"]([^'\"]+)['\"]", source, re.M)
        down = re.search(r"^down_revision\b[^=]*=(.*)$", source, re.M)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def is_current(engine: Engine) -> bool:
    """Whether the database's schema is at the newest migration already: one query, where
    alembic would import itself and every feature's tables to find that out (most of
    ``pluralign db list``'s start). A server that cannot be reached raises, as alembic would."""
    head = head_revision()
    if head is None:
        return False
    with engine.connect() as connection:
        try:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except SQLAlchemyError:
            return False  # an empty database: no version table yet
    return [row[0] for row in found] == [head]


@dataclass
class Store:
    """A connection to the pluralign database. Use :meth:`session` for units of work."""

    url: str
    engine: Engine
    factory: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back (keeping stored data) on error."""
        session = self.factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()

    def has_schema(self) -> bool:
        return inspect(self.engine).has_table("assembly")


def open_store(db: str | None = None, *, migrate: bool = True) -> Store:
    """Open (and by default create or migrate) the store at ``db``; see :func:`resolve_url`."""
    url = resolve_url(db)
    engine = make_engine(url)
    try:
        if migrate and not is_current(engine):
            upgrade(engine)
    except OperationalError as exc:
        raise StoreError(
            f"cannot open the database {make_url(url).render_as_string(hide_password=True)}: "
            f"{exc.orig}",
            hint="check the URL, that the server is running, and the credentials",
        ) from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the database: {exc}") from exc
    return Store(url=url, engine=engine, factory=sessionmaker(engine, expire_on_commit=False))
