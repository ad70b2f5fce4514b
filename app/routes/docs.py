"""The OpenAPI docs page, with Swagger UI served from static/vendor: no CDN, works offline."""

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html

router = APIRouter(include_in_schema=False)
ASSETS = "/static/vendor/swagger-ui"


@router.get("/docs")
async def docs(request: Request):
    """Swagger UI for /openapi.json."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} — API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )
