"""The evaluation factory: every checkpoint x every task BaseConfig, automatically and resumably.

    claf.factory.recipe     factory recipes (base_config/factory/*.json) -> checkpoints -> job specs
    claf.factory.job_store the job queue: the benchmark database (embedded) or a server's REST API
    claf.factory.job        one job = one Experiment("train") in its own process (exact resume, OOM retry)
    claf.factory.worker     claim -> run the job process with heartbeats -> finish (result to claf.results)
    claf.factory.executors  local (N workers) and ray (a Ray core task per job)
    claf.factory.factory    queue / run / watch / status, and the pre-training publish hook

Jobs, leases and the notification outbox live in the benchmark database (``claf.queue.jobs``,
``claf.notify.slack``). Importing this package imports nothing heavy.
"""
