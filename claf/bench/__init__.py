"""Benchmark results: one database, a REST API over it, a dashboard, and a client with an outbox.

    claf.bench.db        open_engine(url), default_url(), migrate(engine), session_factory(engine)
    claf.bench.schema    the tables (SQLAlchemy 2 declarative); new tables come with a new Alembic revision
    claf.bench.catalog   benchmark/task definitions as data (KLUE, GLUE, JGLUE) and published reference rows
    claf.bench.store     writes (idempotent puts) and reads (table, series, result, config diff)
    claf.bench.api       the FastAPI app under /api/v1 (create_app)
    claf.bench.dashboard server-rendered HTML pages (and the static report)
    claf.bench.client    BenchClient (REST), post_run_folder(log_dir) with a local outbox

This package knows nothing of training: it never imports torch or transformers. It reads a run
folder's config.json / metrics.json only. Importing ``claf.bench`` itself imports nothing heavy.
"""
