"""Fetching and unpacking pretrained models: a download cache, safe archives, name resolution."""
