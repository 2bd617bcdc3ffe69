"""One tokenizer per file; each registers itself in ``claf.registry.TOKENIZERS``."""
