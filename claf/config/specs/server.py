"""The benchmark server's settings (``claf server``): where it listens and which database it serves."""

from typing import Annotated, Literal

from pydantic import Field

from claf.config.specs.base import Block


class ServerSpec(Block):
    db: str | None = None  # a database URL; None: sqlite under the user folder
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8765
    private: bool = False  # reads need the token too
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
