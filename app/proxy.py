"""Serving behind a path-prefix proxy (Jupyter's server proxy: a notebook on a remote server shows the
atlas at /user/NAME/proxy/PORT/): the prefix the proxy strips is the root every URL a page holds starts
with. The proxy says it in X-Forwarded-Prefix; it only shapes the URLs of the response to that request."""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = re.compile(r"(/[A-Za-z0-9._~%@+-]+)+")  # path segments only: nothing that could leave the path


class ForwardedPrefix:
    """ASGI middleware: a valid X-Forwarded-Prefix becomes the request's root_path (Starlette then builds
    url_for with it; the pages read it as their root)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            prefix = Headers(scope=scope).get("x-forwarded-prefix", "").rstrip("/")
            if prefix and PREFIX.fullmatch(prefix) and not scope.get("root_path"):
                # ASGI's path holds the root_path (routing and mounts take it off again)
                scope = {**scope, "root_path": prefix, "path": prefix + scope["path"]}
        await self.app(scope, receive, send)
