"""The REST contract, endpoint by endpoint, against the quick zoo."""

import io
import math
import os
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from model.data import ImageSet
from model.home import models_root
from model.inference import LoadedModel
from tests.app.images import data_url, digit_image, encode, pixels_of, redrawn_on_paper


def _image(png: str | bytes) -> torch.Tensor:
    return pixels_of(png).flatten()


def test_health_lists_the_zoo(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body == {
        "status": "ok",
        "models": ["full-2d", "recon-2d", "kl-2d", "full-16d", "beta-4-2d"],
        "training": [],
        "device": "cpu",
        "problems": {},
        "process": os.getpid(),  # the test client serves in this process
    }


def test_models_describe_loss_and_metrics(client: TestClient) -> None:
    models = {m["id"]: m for m in client.get("/api/models").json()}
    assert models["full-2d"]["loss"] == "full" and models["full-2d"]["latent_dim"] == 2
    assert models["recon-2d"]["beta"] == 0.0 and models["kl-2d"]["loss"] == "kl"
    assert models["full-16d"]["latent_dim"] == 16 and models["full-16d"]["dataset"] == "mnist"
    # The tutorial's point, on the served models: recon-only ignores the prior, KL-only ignores the data.
    assert models["recon-2d"]["test_metrics"]["kl"] > 3 * models["full-2d"]["test_metrics"]["kl"]
    assert models["kl-2d"]["test_metrics"]["kl"] < 0.1


def test_map_has_every_test_digit_with_its_label(client: TestClient, test_set: ImageSet) -> None:
    body = client.get("/api/models/full-2d/map").json()
    assert len(body["x"]) == len(body["y"]) == len(body["sigma_x"]) == 10_000
    assert body["label"] == test_set.labels.tolist() and body["index"] == list(range(10_000))
    assert min(body["sigma_x"]) > 0 and body["projection"] is None
    assert len(client.get("/api/models/full-2d/map?limit=50").json()["x"]) == 50


def test_map_of_a_16d_model_decodes_exactly_through_its_plane(client: TestClient) -> None:
    body = client.get("/api/models/full-16d/map?limit=10").json()
    mean, components = (
        torch.tensor(body["projection"]["mean"]),
        torch.tensor(body["projection"]["components"]),
    )
    assert components.shape == (2, 16)
    assert torch.allclose(components @ components.T, torch.eye(2), atol=1e-5)
    x, y = body["x"][3], body["y"][3]
    z = mean + torch.tensor([x, y]) @ components
    by_plane = client.get("/api/models/full-16d/decode.png", params={"x": x, "y": y}).content
    by_z = client.get("/api/models/full-16d/decode.png", params={"z": ",".join(map(str, z.tolist()))}).content
    assert torch.allclose(_image(by_plane), _image(by_z), atol=1 / 255)


def test_decode_png_documents_the_query_it_reads_itself(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/models/{model_id}/decode.png"]["get"]
    documented = {parameter["name"]: parameter["in"] for parameter in operation["parameters"]}
    assert documented == {
        "model_id": "path",
        "x": "query",
        "y": "query",
        "z": "query",
        "plane": "query",
        "split": "query",
    }


def test_decode_png_is_a_28x28_png(client: TestClient) -> None:
    response = client.get("/api/models/full-2d/decode.png?x=0.5&y=-0.25")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (28, 28)


def test_batch_decode_matches_single_decodes(client: TestClient) -> None:
    points = [[0.0, 0.0], [1.0, -1.0], [-2.0, 0.5]]
    images = client.post("/api/models/full-2d/decode", json={"points": points}).json()["images"]
    assert len(images) == 3
    for point, image in zip(points, images, strict=True):
        single = client.get("/api/models/full-2d/decode.png", params={"x": point[0], "y": point[1]}).content
        assert torch.equal(_image(image), _image(single))


def test_encoded_test_digit_decodes_to_its_reconstruction(client: TestClient, test_set: ImageSet) -> None:
    upload = encode(digit_image(test_set.images, 0))
    body = client.post(
        "/api/models/full-2d/encode", files={"file": ("seven.png", upload, "image/png")}
    ).json()
    assert set(body) == {
        "input",
        "mu",
        "sigma",
        "map_xy",
        "map_sigma",
        "reconstruction",
        "neighbors",
        "typicality",
    }
    assert body["typicality"] is None  # full-2d's per-point metrics are not computed
    assert len(body["mu"]) == len(body["sigma"]) == 2 and body["map_xy"] == pytest.approx(body["mu"])
    decoded = client.get(
        "/api/models/full-2d/decode.png", params={"z": ",".join(map(str, body["mu"]))}
    ).content
    assert torch.allclose(_image(decoded), _image(body["reconstruction"]), atol=1 / 255)
    # MNIST's own digit passes through preprocessing almost unchanged.
    original = test_set.images[0].flatten().float() / 255
    assert (_image(body["input"]) - original).abs().mean() < 0.05


def test_encoded_digit_lands_among_its_class(client: TestClient, test_set: ImageSet) -> None:
    hits, tries = 0, 40
    for index in range(tries):
        upload = encode(digit_image(test_set.images, index))
        neighbors = client.post("/api/models/full-16d/encode", files={"file": ("d.png", upload)}).json()[
            "neighbors"
        ]
        assert len(neighbors) == 8 and neighbors == sorted(neighbors, key=lambda n: n["distance"])
        labels = [n["label"] for n in neighbors]
        hits += max(set(labels), key=labels.count) == int(test_set.labels[index])
    # Chance is 1 in 10; even the quick 3-epoch model's latent space keeps classes together.
    assert hits >= 0.7 * tries, f"only {hits} of {tries} digits landed among their own class"


def test_redrawn_digit_encodes_near_the_original(client: TestClient, test_set: ImageSet) -> None:
    """A test digit re-drawn dark on white at 3x, off-centre on a 300x200 canvas."""
    for index in (0, 1, 2, 3):
        original = client.post(
            "/api/models/full-2d/encode",
            files={"file": ("o.png", encode(digit_image(test_set.images, index)))},
        ).json()["mu"]
        canvas = redrawn_on_paper(test_set.images, index, scale=3, size=(300, 200), at=(190, 20))
        redrawn = client.post("/api/models/full-2d/encode", files={"file": ("r.png", encode(canvas))}).json()[
            "mu"
        ]
        assert math.dist(original, redrawn) < 0.5, (index, original, redrawn)


def test_interpolation_endpoints_are_the_encodings(client: TestClient) -> None:
    encodings = client.get("/api/models/full-2d/map?limit=10").json()
    body = client.post(
        "/api/models/full-2d/interpolate", json={"start": {"index": 1}, "end": {"index": 7}, "steps": 6}
    ).json()
    assert len(body["z"]) == len(body["images"]) == len(body["map_xy"]) == 6
    assert body["z"][0] == pytest.approx([encodings["x"][1], encodings["y"][1]], abs=1e-4)
    assert body["z"][-1] == pytest.approx([encodings["x"][7], encodings["y"][7]], abs=1e-4)


def test_a_path_through_named_classes_passes_each_typical_member_once(
    client: TestClient, quick_zoo: Path, test_set: ImageSet
) -> None:
    """The tutorial's Fig. 5 on digits: 1 -> 7 -> 0 by class name, 5 points per leg."""
    body = client.post(
        "/api/models/full-16d/interpolate",
        json={"start": {"label": "1"}, "via": [{"label": "7"}], "end": {"label": "0"}, "steps": 5},
    ).json()
    assert len(body["z"]) == len(body["images"]) == 2 * 4 + 1
    loaded = LoadedModel.load(models_root(quick_zoo) / "full-16d", "cpu")
    mu = torch.cat([loaded.encode(batch)[0] for batch in test_set.pixels().split(2000)])
    for at, digit in ((0, 1), (4, 7), (8, 0)):
        members = mu[test_set.labels == digit]
        typical = members[(members - members.mean(dim=0)).pow(2).sum(dim=1).argmin()]
        assert body["z"][at] == pytest.approx(typical.tolist(), abs=1e-4)
        decoded = loaded.decode(typical[None]).flatten()
        assert torch.allclose(_image(body["images"][at]), decoded, atol=1 / 255)
    unknown = client.post(
        "/api/models/full-2d/interpolate", json={"start": {"label": "@"}, "end": {"index": 0}}
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == (
        "start.label: '@' is not a class of this model's data (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)"
    )


def test_interpolation_from_z_and_image(client: TestClient, test_set: ImageSet) -> None:
    png = encode(digit_image(test_set.images, 4))
    image = data_url(png)
    encoded = client.post("/api/models/full-16d/encode", files={"file": ("d.png", png)}).json()["mu"]
    body = client.post(
        "/api/models/full-16d/interpolate",
        json={"start": {"image": image}, "end": {"z": [0.0] * 16}, "steps": 3, "method": "slerp"},
    ).json()
    assert body["z"][0] == pytest.approx(encoded, abs=1e-5)
    assert len(body["map_xy"][0]) == 2


def test_an_encoding_carries_its_ellipse_on_the_map_plane(client: TestClient, test_set: ImageSet) -> None:
    """The page draws the ellipse the server sends: sigma along each map axis, through the PCA plane."""
    components = torch.tensor(
        client.get("/api/models/full-16d/map?limit=1").json()["projection"]["components"]
    )
    upload = encode(digit_image(test_set.images, 5))
    body = client.post("/api/models/full-16d/encode", files={"file": ("d.png", upload)}).json()
    sigma = torch.tensor(body["sigma"])
    # Var(c . z) = sum_d c_d^2 sigma_d^2 for a unit row c of the plane and a diagonal q(z|x).
    expected = [math.sqrt(float((row**2 * sigma**2).sum())) for row in components]
    assert body["map_sigma"] == pytest.approx(expected, rel=1e-4)
    flat = client.post("/api/models/full-2d/encode", files={"file": ("d.png", upload)}).json()
    assert flat["map_sigma"] == pytest.approx(flat["sigma"], rel=1e-6)  # a 2-D map is the latent plane


def test_interpolation_from_map_points_lifts_them_through_the_plane(client: TestClient) -> None:
    projection = client.get("/api/models/full-16d/map?limit=1").json()["projection"]
    mean, components = torch.tensor(projection["mean"]), torch.tensor(projection["components"])
    body = client.post(
        "/api/models/full-16d/interpolate",
        json={"start": {"point": [0.5, -1.0]}, "end": {"index": 3}, "steps": 4},
    ).json()
    assert body["z"][0] == pytest.approx((mean + torch.tensor([0.5, -1.0]) @ components).tolist(), abs=1e-5)
    assert body["map_xy"][0] == pytest.approx([0.5, -1.0], abs=1e-4)


def test_slerp_keeps_the_norm_profile(client: TestClient) -> None:
    body = client.post(
        "/api/models/full-16d/interpolate",
        json={"start": {"index": 0}, "end": {"index": 1}, "steps": 9, "method": "slerp"},
    ).json()
    norms = torch.tensor(body["z"]).norm(dim=1)
    assert torch.allclose(norms, torch.linspace(float(norms[0]), float(norms[-1]), 9), atol=1e-4)


def test_grid_has_n_by_n_tiles(client: TestClient) -> None:
    for n, spacing in ((5, "gaussian"), (7, "linear")):
        response = client.get("/api/models/full-2d/grid.png", params={"n": n, "spacing": spacing})
        image = Image.open(io.BytesIO(response.content))
        assert image.size == (28 * n, 28 * n)
    tiles = _image(client.get("/api/models/full-2d/grid.png?n=3").content).reshape(84, 84)
    centre = client.get("/api/models/full-2d/decode.png?x=0&y=0").content
    assert torch.allclose(tiles[28:56, 28:56].flatten(), _image(centre), atol=1 / 255)  # middle tile is z = 0


def test_samples_are_seeded(client: TestClient) -> None:
    a = client.get("/api/models/full-16d/samples?n=4&seed=7").json()
    b = client.get("/api/models/full-16d/samples?n=4&seed=7").json()
    c = client.get("/api/models/full-16d/samples?n=4&seed=8").json()
    assert a == b and a["z"] != c["z"] and len(a["images"]) == 4 and len(a["z"][0]) == 16


def test_datasets_list_what_the_models_were_trained_on(client: TestClient, test_set: ImageSet) -> None:
    (mnist,) = client.get("/api/datasets").json()
    assert mnist["key"] == "mnist" and mnist["class_names"] == [str(d) for d in range(10)]
    assert mnist["image_shape"] == [1, 28, 28] and mnist["drawable"] and mnist["labelled"]
    assert mnist["test_size"] == len(test_set)
    models = client.get("/api/models").json()
    assert {model["dataset"] for model in models} == {"mnist"}
    latent_map = client.get("/api/models/full-2d/map?limit=5").json()
    assert latent_map["dataset"] == "mnist" and latent_map["class_names"] == mnist["class_names"]


def test_original_digit_png(client: TestClient, test_set: ImageSet) -> None:
    response = client.get("/api/datasets/mnist/test/3.png")
    assert torch.equal((_image(response.content) * 255).round(), test_set.images[3].flatten().float())
    assert client.get("/api/datasets/mnist/train/59999.png").status_code == 200


def test_grid_over_a_zoomed_range_puts_tiles_at_cell_centres(client: TestClient) -> None:
    grid = client.get("/api/models/full-2d/grid.png?n=2&spacing=linear&x_range=1,3&y_range=-1,1").content
    top_left = _image(grid).reshape(56, 56)[:28, :28].flatten()
    expected = _image(client.get("/api/models/full-2d/decode.png?x=1.5&y=0.5").content)
    assert torch.allclose(top_left, expected, atol=1 / 255)
    bad = client.get("/api/models/full-2d/grid.png?spacing=linear&x_range=3,1")
    assert bad.status_code == 422 and "low < high" in bad.json()["detail"]


def test_every_model_decodes_its_own_map(client: TestClient) -> None:
    """A reconstruction-only model spreads its codes far past the prior; its own map must still decode."""
    for model in ("recon-2d", "full-2d", "full-16d"):
        body = client.get(f"/api/models/{model}/map").json()
        extremes = max(range(10_000), key=lambda i: abs(body["x"][i]) + abs(body["y"][i]))
        point = [body["x"][extremes], body["y"][extremes]]
        assert max(map(abs, point)) < body["coordinate_limit"]
        assert client.post(f"/api/models/{model}/decode", json={"points": [point]}).status_code == 200
    assert client.get("/api/models/full-2d/map?limit=1").json()["coordinate_limit"] == 10


def test_estimator_variances_show_the_reparametrization_trick_wins(client: TestClient) -> None:
    body = client.get("/api/models/full-2d/estimators?samples=1,10,100").json()
    assert body["samples"] == [1, 10, 100] and body["digits"] == 4
    for reparam, score in zip(body["reparam_variance"], body["score_variance"], strict=True):
        assert 0 < reparam * 10 < score
    for reparam, score in zip(body["reparam_encoder_variance"], body["score_encoder_variance"], strict=True):
        assert 0 < reparam * 10 < score
    assert body["reparam_variance"][0] > 5 * body["reparam_variance"][2]  # more samples, less noise
    assert client.get("/api/models/full-2d/estimators?samples=1,10,100").json() == body  # cached
    zero = client.get("/api/models/full-2d/estimators?samples=0").json()["detail"]
    assert zero == "query parameter 'samples.0': Input should be greater than or equal to 1"  # no echo
    for bad in ("0", "1,5000", "1.5", "a", "1,2,3,4,5,6,7"):
        response = client.get(f"/api/models/full-2d/estimators?samples={bad}")
        detail = response.json()["detail"]
        assert response.status_code == 422 and detail.startswith("query parameter 'samples"), bad
