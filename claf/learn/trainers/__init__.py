"""Trainers; each registers itself in ``claf.registry.TRAINERS``."""
