"""The evaluation factory's job queue, in the shared database (``claf.db``).

    claf.queue.jobs     enqueue, claim with a lease, heartbeat, finish (the result goes to the results store)
    claf.queue.routes   the same calls as REST routes under /api/v1/jobs (mounted by ``claf.server.app``)

Needs the ``factory`` extra (or ``server`` for the routes).
"""
