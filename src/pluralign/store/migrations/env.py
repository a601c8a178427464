"""Alembic environment: runs on the connection handed in by ``pluralign.store.session.upgrade``,
or on ``$PLURALIGN_DATABASE_URL`` when alembic is run by hand."""

from alembic import context
from sqlalchemy import create_engine

from pluralign.plugins import store_tables
from pluralign.store.models import Base
from pluralign.store.session import resolve_url

store_tables()  # every feature's tables join Base.metadata (the web app's, the moral graph's, ...)
config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(resolve_url(None))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
