"""The exported map: one HTML file holding its points, Plotly, its own scripts and the hover grid's
decoded images, fetching nothing."""

import base64
import io
import json
import re

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

DATA = re.compile(r'<script id="atlas-data" type="application/json">(.*?)</script>', re.S)


def test_the_export_holds_the_points_and_a_decoded_grid_and_fetches_nothing(client: TestClient) -> None:
    view = {"n": 6, "x_range": "-2,2", "y_range": "-3,3"}
    response = client.get("/api/models/full-2d/export.html", params=view)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["content-disposition"] == 'attachment; filename="full-2d-test-pca-map.html"'
    html = response.text
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|<img[^>]+src=\"http", html)  # nothing fetched
    data = json.loads(DATA.search(html).group(1))  # type: ignore[union-attr]
    assert data["map"] == client.get("/api/models/full-2d/map").json()
    grid = data["grid"]
    assert grid["n"] == 6 and grid["x_range"] == [-2, 2] and grid["y_range"] == [-3, 3]
    sprite = np.array(Image.open(io.BytesIO(base64.b64decode(grid["sprite"].split(",", 1)[1]))))
    assert sprite.shape == (6 * 28, 6 * 28)
    # The tile in row 0, column 5 is decoded at the centre of the top right cell: (5.5/6 of x, 5.5/6 of y).
    x, y = -2 + 4 * 5.5 / 6, 3 - 6 * 0.5 / 6
    single = client.get("/api/models/full-2d/decode.png", params={"x": x, "y": y})
    assert np.array_equal(sprite[:28, 5 * 28 :], np.array(Image.open(io.BytesIO(single.content))))


def test_an_export_outside_the_plane_is_refused(client: TestClient) -> None:
    response = client.get("/api/models/full-2d/export.html", params={"x_range": "-1e6,0"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("x_range: coordinate 0 is -1e+06")
    assert client.get("/api/models/full-2d/export.html", params={"n": 1000}).status_code == 422
