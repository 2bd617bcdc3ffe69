"""Who is calling, and may they: every route of the server declares the one scope it needs.

    auth = Auth(sessions, legacy="s3cret", private=False)
    @app.post("/api/v1/results", dependencies=auth.needs("write:results"))
    def post_result(...): ...
    @app.post("/api/v1/jobs/claim")
    def claim(body, who: Principal = Depends(auth.need("worker"))): ...   # the handler sees the caller

A route's scope is a ``Need`` among its dependencies (the tests read it from there, so a route that
declares none is caught). ``PUBLIC`` routes need nothing; ``read`` routes are open unless the server
is ``private``. A missing, malformed, unknown or revoked token is 401; a known token without the scope
is 403 with ``{"detail": ..., "scope": <the scope needed>}``. ``CLAF_SERVER_TOKEN`` (``legacy``) is an
admin token: it holds every scope, as the one shared token always did.
"""

import hmac
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from claf.errors import one_line
from claf.server import tokens

PUBLIC = None
LEGACY_NAME = "env:CLAF_SERVER_TOKEN"  # ':' is in no token name, so no stored token can take it


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: tuple[str, ...]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or tokens.ADMIN in self.scopes

    @property
    def lease_holder(self) -> str | None:
        """Whose leases this caller may heartbeat and finish: its own (None: an admin, anyone's)."""
        return None if tokens.ADMIN in self.scopes else self.name


class Forbidden(Exception):
    """A known token without the scope a route needs (the app answers 403 naming the scope)."""

    def __init__(self, principal: Principal, scope: str):
        super().__init__(f"token '{principal.name}' lacks the scope '{scope}' that this route needs")
        self.scope = scope


def unauthorized(why: str) -> HTTPException:
    return HTTPException(401, f"{why}: send 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})


class Need:
    """A route's dependency: the caller must hold ``scope`` -> the Principal (None where no token is needed)."""

    def __init__(self, auth: "Auth", scope: str | None):
        self.auth, self.scope = auth, scope

    def __call__(self, request: Request) -> Principal | None:
        return self.auth.check(request, self.scope)


class Auth:
    def __init__(self, sessions, legacy: str | None = None, private: bool = False):
        self.sessions, self.legacy, self.private = sessions, legacy or None, private
        self._needs: dict[str | None, Need] = {}

    def need(self, scope: str | None) -> Need:
        if scope is not PUBLIC and scope not in tokens.SCOPES:
            raise ValueError(f"unknown scope '{scope}'; one of {', '.join(tokens.SCOPES)}")
        return self._needs.setdefault(scope, Need(self, scope))

    def needs(self, scope: str | None) -> list:
        """``dependencies=`` of a route that needs ``scope`` but does not look at the caller."""
        return [Depends(self.need(scope))]

    def check(self, request: Request, scope: str | None) -> Principal | None:
        if scope is PUBLIC or (scope == tokens.READ and not self.private):
            return None
        who = self.principal(request)
        if not who.allows(scope):
            raise Forbidden(who, scope)
        return who

    def principal(self, request: Request) -> Principal:
        """The caller's token -> Principal; 401 when it is missing, unknown or revoked (looked up every time)."""
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise unauthorized("a token is needed")
        if self.legacy is not None and hmac.compare_digest(secret.encode(), self.legacy.encode()):
            return Principal(LEGACY_NAME, tokens.SCOPES)
        found = tokens.find_token(self.sessions, secret)
        if found is None:
            raise unauthorized("unknown or revoked token")
        return Principal(found["name"], tuple(found["scopes"]))


def scope_of(route) -> Need | None:
    """The ``Need`` a route declares (None for a route outside FastAPI's routing)."""
    dependant = getattr(route, "dependant", None)
    return next((d.call for d in dependant.dependencies if isinstance(d.call, Need)), None) if dependant else None


def refusal(request: Request) -> JSONResponse | None:
    """The 401/403 the matched route would answer, or None. FastAPI reads a JSON body before it runs the
    dependencies, so the 422 of a body that is no JSON asks this first: a caller without a valid token
    learns nothing about the body."""
    need = scope_of(request.scope.get("route"))
    if need is None:
        return None
    try:
        need(request)
    except HTTPException as e:
        return JSONResponse({"detail": e.detail}, status_code=e.status_code, headers=e.headers)
    except Forbidden as e:
        return forbidden(e)
    return None


def forbidden(exc: Forbidden) -> JSONResponse:
    return JSONResponse({"detail": one_line(str(exc)), "scope": exc.scope}, status_code=403)
