"""The OpenAPI document's links, and the Allow header of a 405.

Links say where a new session's id and token go: from every answer that creates a session
(or a race) to every operation that takes its id (the token too where it takes one), from a save
to the saved-session routes, from the preset list to opening a preset. A client generator
or a fuzzer (schemathesis' stateful phase) follows them instead of guessing ids.
"""

import re

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.routing import Match, Mount

from app.schemas.bounds import state_limits

TOKEN = "X-Control-Token"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def document(app: FastAPI) -> None:
    """Add the links to the app's OpenAPI document and a complete Allow header to 405s."""
    plain = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            spec = plain()
            whole_bounds(spec)
            state_limits(spec, app.state.settings)
            require_token(spec)
            add_links(spec)
        return app.openapi_schema

    app.openapi = openapi
    app.add_exception_handler(405, method_not_allowed)


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _answers(operation: dict, status: str, model: str) -> bool:
    content = operation.get("responses", {}).get(status, {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").endswith(f"/{model}")


def _takes(operation: dict, where: str, name: str) -> bool:
    return any(p["in"] == where and p["name"] == name for p in operation.get("parameters", []))


BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def whole_bounds(node) -> None:
    """An integer's bounds as integers. FastAPI's OpenAPI model writes every bound as a float,
    so `lt=2**63` became 9.223372036854776e18, and tools that read JSON numbers as written
    (schemathesis) generate seeds just past it. The models' bounds are small numbers and
    powers of two, exact as floats, so turning each back gives the model's bound."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for bound in BOUNDS:
                if isinstance(node.get(bound), float) and node[bound].is_integer():
                    node[bound] = int(node[bound])
        for value in node.values():
            whole_bounds(value)
    elif isinstance(node, list):
        for value in node:
            whole_bounds(value)


def require_token(spec: dict) -> None:
    """The token is optional in the code only so that its absence answers 403 (not 422):
    no control route does anything without it, so the schema says it is required."""
    for _, _, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "header" and parameter["name"] == TOKEN:
                parameter["required"] = True
                parameter["schema"] = {"type": "string", "title": TOKEN}


def add_links(spec: dict) -> None:
    ops = list(_operations(spec))
    for _, _, source in ops:
        links = {}
        if _answers(source, "201", "RaceCreated"):
            links = _by_id(ops, "race_id")
            status = "201"
        elif _answers(source, "201", "SessionCreated"):
            links = _by_id(ops, "session_id")
            for path, _, target in ops:
                if path == "/api/join/{code}":
                    links[target["operationId"]] = _link(
                        target, {"path.code": "$response.body#/join_code"}
                    )
            status = "201"
        elif _answers(source, "200", "SavedLink"):
            for path, _, target in ops:
                if path.startswith("/api/saved/{code}"):
                    links[target["operationId"]] = _link(
                        target, {"path.code": "$response.body#/code"}
                    )
            status = "200"
        elif source["operationId"].startswith("list_presets"):
            for path, _, target in ops:
                if path == "/api/presets/{name}":
                    links[target["operationId"]] = _link(
                        target, {"path.name": "$response.body#/0/name"}
                    )
            status = "200"
        if links:
            source["responses"][status]["links"] = links


def _by_id(ops: list, name: str) -> dict:
    """Links from a new session's (or race's) id and token to every operation taking them."""
    links = {}
    for _, _, target in ops:
        if _takes(target, "path", name):
            parameters = {f"path.{name}": "$response.body#/id"}
            if _takes(target, "header", TOKEN):
                parameters[f"header.{TOKEN}"] = "$response.body#/token"
            links[target["operationId"]] = _link(target, parameters)
    return links


def _link(target: dict, parameters: dict) -> dict:
    return {
        "operationId": target["operationId"],
        "parameters": parameters,
        "description": f"{target.get('summary', '')} ({', '.join(parameters)} from this answer)",
    }


def _pattern(template: str) -> str:
    return "/".join(
        "[^/]+" if part.startswith("{") else re.escape(part) for part in template.split("/")
    )


def _allowed(request: Request) -> list[str]:
    """The methods of the path's operations in the schema (the most literal template wins:
    /api/sessions/import, not /api/sessions/{session_id}); for a page, of every route."""
    path = request.url.path
    templates = [t for t in request.app.openapi()["paths"] if re.fullmatch(_pattern(t), path)]
    if templates:
        template = min(templates, key=lambda t: t.count("{"))
        return [m.upper() for m in request.app.openapi()["paths"][template] if m in METHODS]
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    return [
        method.upper()
        for method in METHODS
        if any(r.matches({**request.scope, "method": method.upper()})[0] == Match.FULL
               for r in routes)
    ]


async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """405 with every method the path answers to: Starlette's own lists only those of the
    first route that matched (GET and DELETE /api/sessions/{id} are two routes)."""
    allowed = _allowed(request)
    headers = {"Allow": ", ".join(allowed)} if allowed else None
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers=headers)
