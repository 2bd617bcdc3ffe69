"""Optional parts of claf and the packages they need: ``pip install 'claf[EXTRA]'``.

The core install fine-tunes and pre-trains. A command that needs more calls ``require(extra, what)``
before it imports anything of the extra, so a missing extra is one line, not a traceback:

    error: 'claf server' needs the server extra: pip install 'claf[server]'

EXTRAS lists, per extra, the modules that must be importable (the ones imported unconditionally;
pyproject.toml's [project.optional-dependencies] is what installs them).
"""

from importlib.util import find_spec

from claf.errors import UserError

EXTRAS = {
    "server": ("sqlalchemy", "alembic", "fastapi", "uvicorn", "jinja2"),
    "factory": ("sqlalchemy", "alembic", "ray", "slack_sdk"),
    "serve": ("onnx", "onnxruntime", "fastapi", "uvicorn", "httpx"),
    "s3": ("boto3",),
}


class MissingExtraError(UserError):
    """A command needs an extra that is not installed."""


def missing(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here (none when the extra is installed)."""
    return [name for name in EXTRAS[extra] if find_spec(name) is None]


def require(extra: str, what: str) -> None:
    """Raise MissingExtraError naming the extra to install when a module of ``extra`` is missing."""
    if missing(extra):
        raise MissingExtraError(f"'{what}' needs the {extra} extra: pip install 'claf[{extra}]'")
