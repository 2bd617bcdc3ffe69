"""Latency reports (``claf bench latency``) kept in the shared database (``claf.db``).

    claf.latency.reports   put_latency, list_runs, get_run, appendix (the talk's table), to_csv

Needs the ``server`` extra.
"""
