"""Data readers, one file per task family; each registers itself in ``claf.registry.READERS``."""
