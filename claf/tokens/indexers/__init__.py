"""Token indexers: tokens -> model inputs; each registers itself in ``claf.registry.INDEXERS``."""
