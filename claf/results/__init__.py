"""Benchmark results: the store, its reads, the catalog, and the client with its outbox.

    claf.results.catalog       benchmark/task definitions as data (catalog.json: KLUE, GLUE, JGLUE) and
                               migrate(engine): schema upgrade + catalog sync
    claf.results.payloads      the pydantic payloads the server takes (results, checkpoints, vocab rows, latency)
    claf.results.digest        canonical JSON and its SHA-256 (config hashes, keys)
    claf.results.store         writes (idempotent puts) and lookups
    claf.results.queries       reads: the models x tasks table (its average named), one result, config diff
    claf.results.fill          the command that fills an empty task (a factory recipe or a fine-tuning BaseConfig)
    claf.results.series        score vs step per task, with 95% multi-bootstrap bands
    claf.results.replicas      a model's pre-training replicas (MODEL-s<seed>): combined or each
    claf.results.compare       A against B per task and on average (claf compare, /api/v1/compare)
    claf.results.run_payloads  a finished run folder -> payloads (config.json / metrics.json only)
    claf.results.client        BenchClient (REST, ``requests`` only), post_run_folder(log_dir) with a local outbox

The tables live in ``claf.db``; the server app in ``claf.server``. This package knows nothing of
training: it never imports torch or transformers. The client and run_payloads need only the core
install; the store and queries need the ``server`` extra (SQLAlchemy).
"""
