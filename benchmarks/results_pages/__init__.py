"""Results pages, generated from ``benchmarks/*.json``: one module per page (``PAGE``, ``TITLE``, ``SUMMARY``,
``SOURCES``, ``render()``), the README's headline block (``headline``) and the index (``index``).

``python benchmarks/render_results.py`` writes them; ``--check`` fails when one differs from its data.
"""

from . import (
    bench_server,
    electra,
    factory,
    precision,
    pretrain_pipeline,
    pretraining,
    quickstart,
    serving,
    speed_vs_hf,
    tokenizers,
)

PAGES = [
    pretraining,
    quickstart,
    serving,
    tokenizers,
    precision,
    speed_vs_hf,
    pretrain_pipeline,
    electra,
    factory,
    bench_server,
]
