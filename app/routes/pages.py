"""HTML pages and htmx fragments."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(request: Request):
    """The playground page."""
    return request.app.state.templates.TemplateResponse(request, "index.html", {})
