"""The results server: one FastAPI app over the shared database.

    claf.server.app        create_app(db_url): the REST API under /api/v1 (results, latency, jobs)
    claf.server.dashboard  server-rendered HTML pages (templates/, static/) and the static report

Needs the ``server`` extra. Not to be confused with ``claf.serve`` (model inference serving).
"""
