"""Browser-facing protections: refuse cross-origin writes, and send headers that stop content sniffing
and limit what a page may load (lessons of Gradio's cross-origin uploads into localhost apps)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The narrowest policy under which the standard Plotly bundle works: it injects inline styles, and its
# WebGL traces (scattergl, via regl) build functions at run time, so without 'unsafe-eval' hovering the
# map silently stops reporting points (seen in the browser tests). Scripts still load from self only.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors {frame_ancestors}"
)
# Swagger UI at /docs (bundled, served from here) starts itself with an inline script; all it loads
# comes from this server too.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors {frame_ancestors}"
)


def _refuse(detail: str) -> tuple[Message, Message]:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return (
        {"type": "http.response.start", "status": 403, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


def cross_origin_reason(method: str, headers: Headers) -> str | None:
    """Why a request must be refused as cross-origin, or None. Requests without Origin (curl, scripts)
    are not a browser acting for another site, so they pass."""
    if method not in UNSAFE_METHODS:
        return None
    if headers.get("sec-fetch-site") == "cross-site":
        return "cross-origin request refused: this server accepts writes from its own pages only"
    origin = headers.get("origin")
    if origin is None:
        return None
    if origin == "null" or urlsplit(origin).netloc != headers.get("host"):
        return f"cross-origin request refused: origin {origin!r} is not this server"
    return None


class BrowserSecurity:
    """ASGI middleware: 403 for cross-origin writes; nosniff on every response; a CSP on HTML pages."""

    def __init__(self, app: ASGIApp, *, frame_ancestors: str = "'none'") -> None:
        self.app = app
        # Who may frame the pages (CSP frame-ancestors): nobody, but a notebook for explore().
        self.page_policy = PAGE_POLICY.format(frame_ancestors=frame_ancestors).encode()
        self.docs_policy = DOCS_POLICY.format(frame_ancestors=frame_ancestors).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reason = cross_origin_reason(scope["method"], Headers(scope=scope))
        if reason is not None:
            for message in _refuse(reason):
                await send(message)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html"):
                    policy = self.docs_policy if scope["path"].startswith("/docs") else self.page_policy
                    headers.append((b"content-security-policy", policy))
                    headers.append((b"referrer-policy", b"same-origin"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
