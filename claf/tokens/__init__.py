"""Tokenizers, vocabularies and token indexers."""
