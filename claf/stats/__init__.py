"""Statistics over repeated runs: the multi-bootstrap (``claf.stats.bootstrap``).

A low layer: it imports numpy and claf's bottom modules only, never torch.
"""
