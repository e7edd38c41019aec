"""Hostile values in every query parameter, path parameter and body field of every operation that the
app's own /openapi.json declares: non-finite numbers in every spelling, huge integers, empty and very long
strings, digits of other scripts, wrong types, repeated parameters. No answer may be a 5xx, and every 4xx
says in its `detail` what was wrong. Also: every $ref in the published schema resolves."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from app.main import create_app
from app.settings import Settings
from model.data import ImageSet
from model.home import classifier_folder, data_root, models_root
from tests.app.conftest import TEST_HOSTS
from tests.app.images import digit_image, encode
from tests.conftest import TEST_EVALUATION, examples, swept

EXAMPLES_PER_OPERATION = 40  # in CI: seconds in all; derandomized, so every run sends the same values
# Spellings that a number parser may take for a number, or choke on.
NUMBER_LIKE = [
    *("inf", "-inf", "Infinity", "-Infinity", "INF", "nan", "NaN", "-nan", "1e400", "-1e400", "1e-400"),
    *("9" * 400, "-" + "9" * 400, "0x1F", "1_000", " 1", "1 ", "+1", "-0", "1.", ".5", "1e5", "2**64"),
    *(
        "\u0661\u0662",
        "\uff11\uff12",
        "\u2460",
        "\u0663.\u0665",
        "1,2",
        "1,,2",
        ",",
        "1,nan",
        "true",
        "[]",
        "",
    ),
]
# The same threats as JSON tokens in a body (Python's JSON reader takes NaN, Infinity and 1e400).
JSON_TOKENS = [
    *("NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400, "-" + "1" * 400, "1.5", "-1"),
    *('"inf"', '"NaN"', '"1e400"', '""', '"١٢"', '"' + "x" * 20_000 + '"', "[]", "{}", "null", "true"),
    *("[NaN, 0]", '["a", "b"]', "[[Infinity, 0]]", "[" * 5000 + "]" * 5000, '{"index": 1e400}'),
]
# Valid values for everything else, so that the hostile value is what the server has to deal with.
VALID_PATH = {
    "model_id": "full-16d",
    "key": "mnist",
    "split": "test",
    "index": "3",
    "job_id": "1",
    "method": "tsne",
    "zoom": "0",  # a density tile's
    "i": "0",
    "j": "0",
    "dim": "2",  # a latent dimension's
}
VALID_BODIES: dict[str, dict[str, Any]] = {
    # Training is off in the tests' server: these reach the 403 unless a field is refused first.
    "/api/jobs": {"model_id": "hostile", "hidden": [8], "epochs": 1, "train_limit": 100},
    "/api/jobs/suggestion": {"loss": "beta", "beta": 2.5, "hidden": [8], "train_limit": 100},
    "/api/jobs/zoo": {"zoo": "beta", "dataset": "mnist"},
    "/api/models/{model_id}/posterior": {"index": 0},
    "/api/models/{model_id}/view": {"split": "test", "pins": [1], "selection": [2, 3], "hovered": [0.5, 0.5]},
    "/api/models/{model_id}/highlight": {"split": "test", "indices": [4]},
    # The plane is not computed in this home: these reach the 409 unless a field is refused first.
    "/api/models/{model_id}/planes/{method}/place": {"z": [[0.0] * 16]},
    "/api/models/{model_id}/planes/{method}/lift": {"points": [[0.0, 0.0]]},
    "/api/models/{model_id}/arithmetic": {
        "a": {"label": "1"},
        "b": {"indices": [0, 1]},
        "to": {"index": 3},
        "strength": 1.5,
        "steps": 3,
    },
    "/api/models/{model_id}/selection": {"indices": [0, 1, 2]},
    "/api/models/{model_id}/selection.csv": {"indices": [0, 1, 2]},
    "/api/models/{model_id}/selection/region": {"polygon": [[0, 0], [1, 0], [0, 1]], "labels": [1, 2]},
    "/api/models/{model_id}/traversal": {"centre": {"index": 0}, "rows": 2, "steps": 3, "extent": 1.5},
    "/api/models/{model_id}/decode": {"points": [[0.0, 0.0], [0.5, -0.5]]},
    "/api/models/{model_id}/interpolate": {
        "start": {"index": 0},
        "via": [{"label": "3"}],
        "end": {"point": [0.5, 0.5]},
        "steps": 3,
    },
    "/api/models/{model_id}/interpolate.png": {
        "start": {"index": 0},
        "via": [{"label": "3"}],
        "end": {"point": [0.5, 0.5]},
        "steps": 3,
    },
    "/api/models/{model_id}/interpolate.gif": {
        "start": {"index": 0},
        "via": [{"label": "3"}],
        "end": {"point": [0.5, 0.5]},
        "steps": 3,
    },
}
MARK = "\x00hostile\x00"
Target = tuple[str, Any]  # ("query" | "path", name) or ("json", path into the body) or ("form", name)


@pytest.fixture(scope="module")
def client(quick_zoo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app over a home of its own (one model and the classifier): what hostile requests compute and
    cache, evaluations included, stays out of the home the other tests share."""
    home = tmp_path_factory.mktemp("hostile-home")
    data_root(home).parent.mkdir(parents=True, exist_ok=True)
    data_root(home).symlink_to(data_root(quick_zoo))
    shutil.copytree(classifier_folder(quick_zoo, "mnist"), classifier_folder(home, "mnist"))
    shutil.copytree(
        models_root(quick_zoo) / VALID_PATH["model_id"], models_root(home) / VALID_PATH["model_id"]
    )
    settings = Settings(home=home, device="cpu", allowed_hosts=TEST_HOSTS, evaluation=TEST_EVALUATION)
    with TestClient(create_app(settings)) as isolated:
        yield isolated


@pytest.fixture(scope="module")
def schema(client: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/openapi.json").json()
    return body


def text_values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NUMBER_LIKE),
        st.integers(min_value=2**63).map(str),  # past every int64
        st.text(st.characters(categories=["Nd"]), min_size=1, max_size=6),  # digits of every script
        st.text(min_size=1, max_size=30),
        st.just("z" * 12_000),
    )


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def body_fields(schema: dict[str, Any], node: dict[str, Any], value: Any, at: tuple[Any, ...] = ()) -> list:
    """Every field of a JSON body that the schema declares, down into objects and into the first item of
    each list the valid body has, as paths of keys and indices."""
    node = _resolve(schema, node)
    found: list[tuple[Any, ...]] = [at] if at else []
    for option in node.get("anyOf", []):
        found += body_fields(schema, option, value, at)
    for name, child in node.get("properties", {}).items():
        found += body_fields(schema, child, value.get(name) if isinstance(value, dict) else None, (*at, name))
    if "items" in node and isinstance(value, list) and value:
        found += body_fields(schema, node["items"], value[0], (*at, 0))
    return list(dict.fromkeys(found))


def with_token(body: dict[str, Any], at: tuple[Any, ...], token: str) -> str:
    """The body as JSON text with the raw JSON `token` at path `at`."""
    copy = json.loads(json.dumps(body))
    parent = copy
    for key in at[:-1]:
        parent = parent.setdefault(key, {}) if isinstance(parent, dict) else parent[key]
    parent[at[-1]] = MARK
    return json.dumps(copy).replace(json.dumps(MARK), token)


def targets_of(schema: dict[str, Any], path: str, operation: dict[str, Any]) -> list[Target]:
    found: list[Target] = [(p["in"], p["name"]) for p in operation.get("parameters", [])]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        assert path in VALID_BODIES, f"{path}: add a valid body to VALID_BODIES so its fields are tried"
        body_schema = content["application/json"]["schema"]
        found += [("json", at) for at in body_fields(schema, body_schema, VALID_BODIES[path])]
    if "multipart/form-data" in content:
        fields = _resolve(schema, content["multipart/form-data"]["schema"])["properties"]
        found += [("form", name) for name in fields]
    return found


def test_every_ref_in_the_schema_resolves(schema: dict[str, Any]) -> None:
    refs = set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(schema)))
    assert len(refs) >= 10, "the check would see almost nothing"
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schema["components"]["schemas"], f"{ref} does not resolve"


def test_the_walk_finds_nested_body_fields(schema: dict[str, Any]) -> None:
    """The property test below reaches fields inside objects and lists, not only the top level."""
    operation = schema["paths"]["/api/models/{model_id}/interpolate"]["post"]
    targets = targets_of(schema, "/api/models/{model_id}/interpolate", operation)
    assert {("json", ("start", "index")), ("json", ("end", "point", 0)), ("json", ("steps",))} <= set(targets)


HostileRequest = tuple[str, str, list[tuple[str, str]], dict[str, Any], str]  # method, url, query, ...


def hostile_request(
    method: str, path: str, operation: dict[str, Any], target: Target, value: Any, png: bytes
) -> HostileRequest | None:
    """One request to the operation, valid but for `value` at `target` (None: no client could send it):
    method, URL, query, the body's keyword arguments and how a failure names it. `value` is text for a
    parameter or form field, a raw JSON token for a body field, bytes for a file, or a list of texts for
    a repeated query parameter."""
    kind, name = target
    path_values, query = dict(VALID_PATH), []
    body = VALID_BODIES.get(path)
    request: dict[str, Any] = {}
    if body is not None:
        request = {"content": json.dumps(body), "headers": {"content-type": "application/json"}}
    elif "requestBody" in operation:
        request = {"files": {"file": ("d.png", png, "image/png")}}
    if kind == "path":
        path_values[name] = value
    elif kind == "query":
        query = [(name, text) for text in value] if isinstance(value, list) else [(name, value)]
    elif kind == "json":
        request["content"] = with_token(body or {}, name, value)
    elif kind == "header":
        if not isinstance(value, str) or not value.isascii() or "\n" in value or "\r" in value:
            return None  # not a header any client could send
        request["headers"] = {name: value}
    elif isinstance(value, bytes):
        request = {"files": {name: ("x.png", value, "image/png")}}
    else:  # text where a file belongs
        request = {"data": {name: value}}
    url = re.sub(r"\{(\w+)\}", lambda m: quote(path_values[m.group(1)], safe=""), path)
    what = f"{method.upper()} {url[:100]} {query!r:.100} {kind} {name!r:.60}"
    return method, url, query, request, what


def check_answer(response: httpx2.Response, what: str) -> None:
    """No 5xx, and a 4xx says what was wrong."""
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        detail = response.json().get("detail")
        assert isinstance(detail, str) and detail.strip(), f"{what}: {response.status_code}, no detail"


def send(
    client: TestClient,
    method: str,
    path: str,
    operation: dict[str, Any],
    target: Target,
    value: Any,
    png: bytes,
) -> None:
    """The hostile request through the test client, and its answer checked."""
    built = hostile_request(method, path, operation, target, value, png)
    if built is not None:
        method, url, query, request, what = built
        check_answer(client.request(method, url, params=query, **request), what)


def fixed_values(kind: str) -> list[Any]:
    """Every listed spelling, for one target."""
    if kind == "json":
        return JSON_TOKENS
    if kind == "form":
        return [*NUMBER_LIKE, b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff" + bytes(64)]
    return NUMBER_LIKE


def random_values(kind: str) -> st.SearchStrategy[Any]:
    if kind == "json":
        return st.one_of(
            st.integers(min_value=2**63).map(str),
            st.text(max_size=30).map(json.dumps),
            st.sampled_from(JSON_TOKENS),
        )
    if kind == "form":
        magic = st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"])
        return st.one_of(text_values(), st.tuples(magic, st.binary(max_size=300)).map(b"".join))
    if kind == "query":  # also repeated: hostile and valid, in either order
        return st.one_of(
            text_values(), st.tuples(text_values(), st.just("1")).map(list), st.lists(text_values())
        )
    return text_values()


def test_every_listed_spelling_in_every_field_gets_no_5xx(
    client: TestClient, schema: dict[str, Any], test_set: ImageSet
) -> None:
    png = encode(digit_image(test_set.images, 0))
    operations = [(m, p, op) for p, ops in schema["paths"].items() for m, op in ops.items()]
    assert len(operations) >= 15
    requests = [
        built
        for method, path, operation in operations
        for target in targets_of(schema, path, operation)
        for value in fixed_values(target[0])
        if (built := hostile_request(method, path, operation, target, value, png)) is not None
    ]
    assert len(requests) >= 1000

    async def sweep() -> None:
        # Thousands of requests, sent in the server's own event loop: the test client would hop threads
        # for every message of each (three quarters of the time).
        transport = httpx2.ASGITransport(app=client.app)
        async with httpx2.AsyncClient(transport=transport, base_url=str(client.base_url)) as http:
            for method, url, query, request, what in swept(requests):
                check_answer(await http.request(method, url, params=query, **request), what)

    client.portal.call(sweep)  # type: ignore[union-attr]


def send_random(client: TestClient, schema: dict[str, Any], method: str, path: str, png: bytes) -> None:
    """EXAMPLES_PER_OPERATION requests to one operation, each with a random hostile value in one field."""
    operation = schema["paths"][path][method]
    targets = targets_of(schema, path, operation)

    @given(data=st.data())
    @settings(max_examples=examples(EXAMPLES_PER_OPERATION))
    def hostile(data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(targets))
        send(client, method, path, operation, target, data.draw(random_values(target[0])), png)

    if targets:
        hostile()


def test_random_hostile_values_get_no_5xx(
    client: TestClient, schema: dict[str, Any], test_set: ImageSet
) -> None:
    png = encode(digit_image(test_set.images, 0))
    for path, operations in schema["paths"].items():
        for method in operations:
            send_random(client, schema, method, path, png)
