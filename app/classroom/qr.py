"""QR codes, made here as SVG: the hall needs no internet."""

import io

import segno
from fastapi import Response


def qr_svg(url: str) -> Response:
    """An SVG QR code of `url`, for an <img>."""
    out = io.BytesIO()  # save(), not svg_inline(): an <img> needs the SVG namespace declared
    segno.make(url, error="m").save(
        out, kind="svg", scale=8, border=2, dark="#000", light="#fff", xmldecl=False
    )
    return Response(out.getvalue(), media_type="image/svg+xml")
