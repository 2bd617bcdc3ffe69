"""REST routes for the server's tokens (scope ``admin``); ``python -m claf server token`` does the same
on the database directly.

    GET  /api/v1/tokens                   -> [{"name", "scopes", "created", "revoked"}]  (never a secret)
    POST /api/v1/tokens                   {"name", "scopes"} -> 201 {"name", "scopes", "token"} (shown once)
    POST /api/v1/tokens/{name}/revoke     -> the token's row; 404 for an unknown name
"""

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from claf.server import tokens


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, pattern=tokens.NAME.pattern)
    scopes: list[str] = Field(min_length=1, max_length=len(tokens.SCOPES))


def add_token_routes(app: FastAPI, factory, auth) -> None:
    admin = auth.needs(tokens.ADMIN)

    @app.get("/api/v1/tokens", dependencies=admin)
    def list_tokens():
        with factory() as s:
            return tokens.list_tokens(s)

    @app.post("/api/v1/tokens", dependencies=admin)
    def create(body: TokenIn):
        scopes = tokens.check_scopes(body.scopes)
        secret = tokens.create_token(factory, body.name, scopes)
        return JSONResponse({"name": body.name, "scopes": scopes, "token": secret}, status_code=201)

    @app.post("/api/v1/tokens/{name}/revoke", dependencies=admin)
    def revoke(name: str):
        return tokens.revoke_token(factory, name)
