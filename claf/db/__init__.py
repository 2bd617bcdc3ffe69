"""The one database shared by the results store, the job queue, the notification outbox and latency reports.

    claf.db.engine      open_engine(url), default_url(), migrate(engine, seed), session_factory, write_session
    claf.db.tables      every table (results, latency, factory jobs, notification outbox) on one ``Base``
    claf.db.migrations  Alembic revisions; a new table comes with a new revision

Needs the ``server`` extra (SQLAlchemy, Alembic; psycopg for PostgreSQL). Importing ``claf.db`` imports nothing.
"""
