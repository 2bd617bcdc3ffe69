"""Evaluation metrics.

Every module here registers its metrics with ``claf.registry.METRICS``; the
registry imports the whole package on first lookup, so modules stay light
(standard library and numpy only, no torch).
"""
