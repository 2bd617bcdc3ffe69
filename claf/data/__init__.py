"""Data files: finding, verifying and downloading the datasets that configs name."""
