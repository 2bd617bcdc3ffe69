"""CLaF + LaRva: pre-training and fine-tuning BERT-style language models."""

__version__ = "0.1.0"
