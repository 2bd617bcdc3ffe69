class ConfigError(ValueError):
    """A config problem the user fixes: one line naming the key or file and the fix."""
