"""Alembic environment: runs on the connection handed in by ``pluralign.store.session.upgrade``,
or on ``$PLURALIGN_DATABASE_URL`` when alembic is run by hand."""

from alembic import context
from sqlalchemy import create_engine

import pluralign.evaluate.public_models  # noqa: F401  (public-evaluation tables)
import pluralign.moralgraph.models  # noqa: F401  (moral-graph tables join Base.metadata)
import pluralign.web.models  # noqa: F401  (web tables share Base.metadata)
from pluralign.store.models import Base
from pluralign.store.session import resolve_url

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
