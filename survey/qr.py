"""QR codes for survey links (segno), as PNG for slides and SVG for print."""

from __future__ import annotations

import io

import segno

FORMATS = {"png": "image/png", "svg": "image/svg+xml"}


def qr_code(url: str, fmt: str, title: str | None = None) -> bytes:
    """Return a QR code for url as PNG or SVG bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown QR format {fmt!r}; use png or svg")
    # Level Q survives a quarter of the code being smudged or covered: posters get worn.
    code = segno.make(url, error="q", micro=False)
    out = io.BytesIO()
    if fmt == "png":
        code.save(out, kind="png", scale=12, border=4)
    else:
        code.save(out, kind="svg", scale=10, border=4, xmldecl=False, title=title, svgclass="qr", lineclass=None)
    return out.getvalue()
