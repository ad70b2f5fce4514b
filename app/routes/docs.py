"""The OpenAPI docs page, with Swagger UI served from static/vendor: no CDN, works offline."""

import base64
import hashlib
import re

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from app.routes.guards import CSP

router = APIRouter(include_in_schema=False)
ASSETS = "/static/vendor/swagger-ui"


@router.get("/docs")
async def docs(request: Request):
    """Swagger UI for /openapi.json."""
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} — API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )
    # FastAPI's page names no language (screen readers, axe-core's html-has-lang)
    html = page.body.decode().replace("<html>", '<html lang="en">', 1)
    # The page starts Swagger UI from one inline script: the CSP allows that script by its hash.
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", html, re.S)
    )
    csp = CSP.replace("script-src 'self'", f"script-src 'self' {hashes}")
    return HTMLResponse(html, headers={"content-security-policy": csp})
