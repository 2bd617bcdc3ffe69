from claf.errors import UserError


class ConfigError(UserError, ValueError):
    """A config problem the user fixes: one line naming the key or file and the fix."""

    exit_code = 2
