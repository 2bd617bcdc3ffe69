"""Task heads on top of transformers encoders (loaded through the Auto classes)."""
