"""Cross-origin writes, Host checks and the headers every response carries."""

import pytest
from fastapi.testclient import TestClient

from app.cli import add_serve, training_allowed
from model.cli import build_parser

DECODE = "/api/models/full-2d/decode"
BODY = {"points": [[0.0, 0.0]]}


def test_cross_origin_posts_are_refused(client: TestClient) -> None:
    evil = client.post(DECODE, json=BODY, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403
    assert evil.json() == {
        "detail": "cross-origin request refused: origin 'http://evil.example' is not this server"
    }
    assert client.post(DECODE, json=BODY, headers={"Origin": "null"}).status_code == 403
    assert client.post(DECODE, json=BODY, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    upload = client.post(
        "/api/models/full-2d/encode",
        files={"file": ("d.png", b"x")},
        headers={"Origin": "http://evil.example"},
    )
    assert upload.status_code == 403


def test_same_origin_and_originless_posts_pass(client: TestClient) -> None:
    assert client.post(DECODE, json=BODY, headers={"Origin": "http://testserver"}).status_code == 200
    assert client.post(DECODE, json=BODY).status_code == 200  # curl and scripts send no Origin
    # Reads are never refused: an <img> on another page may show a decoded digit.
    assert client.get("/api/health", headers={"Origin": "http://evil.example"}).status_code == 200


def test_unknown_host_header_is_refused(client: TestClient) -> None:
    response = client.get("/api/health", headers={"Host": "attacker.example"})
    assert response.status_code == 400  # a DNS-rebinding page cannot reach the local server


def test_every_response_says_nosniff_and_pages_carry_a_policy(client: TestClient) -> None:
    for path in ("/api/health", "/api/models/full-2d/decode.png?x=0&y=0", "/api/models/nope/map", "/"):
        assert client.get(path).headers["x-content-type-options"] == "nosniff", path
    policy = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "content-security-policy" not in client.get("/api/health").headers


def test_api_docs_load_nothing_from_a_cdn(client: TestClient) -> None:
    docs = client.get("/docs")
    assert "/static-offline-docs/swagger-ui-bundle.js" in docs.text and "https://" not in docs.text
    assert "default-src 'self'" in docs.headers["content-security-policy"]
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404  # ReDoc would fetch its logo from its maker's CDN


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        ([], True),
        (["--host", "127.0.0.2"], True),
        (["--host", "::1"], True),
        (["--host", "localhost"], True),
        (["--no-training"], False),
        (["--host", "0.0.0.0"], False),
        (["--host", "192.168.1.5"], False),
        (["--host", "0.0.0.0", "--allow-training"], True),
    ],
)
def test_training_from_the_page_is_on_for_a_local_server_only_unless_asked(
    argv: list[str], allowed: bool
) -> None:
    args = build_parser(add_serve).parse_args(["serve", *argv])
    assert training_allowed(args) is allowed


def test_allowing_and_refusing_training_at_once_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser(add_serve).parse_args(["serve", "--allow-training", "--no-training"])
    assert "not allowed with argument" in capsys.readouterr().err
