"""The one base class of user errors, and the errors several layers share.

A ``UserError`` is a mistake the user can fix (a bad key, value, file or name). Its message is
one line that names the key, file or line and the fix. The command layer prints exactly these
as ``error: ...`` and exits non-zero; any other exception is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A mistake the user fixes; the message names the key/file/line and the fix."""

    exit_code = 1


class InputError(UserError, ValueError):
    """A prediction input the model cannot take (a missing field, an unknown task)."""


class MissingFileError(UserError, FileNotFoundError):
    """A file or folder the user named is missing or is not what it should be."""


class RunFolderError(UserError):
    """A run folder is taken (a new run would replace its results), or is not a finished run (its
    config.json / metrics.json is missing or unreadable). Raised by ``claf.learn.run_folder`` and
    ``claf.results.run_payloads``."""

    exit_code = 2


def one_line(text: str) -> str:
    """``text`` with its control characters escaped (``\\n`` -> ``\\\\n``): a message that echoes user input
    stays one line."""
    return "".join(c if c >= " " and c != "\x7f" else c.encode("unicode_escape").decode("ascii") for c in text)
