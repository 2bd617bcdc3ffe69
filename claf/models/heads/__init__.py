"""One head per task family; each registers itself in ``claf.registry.MODELS``."""
