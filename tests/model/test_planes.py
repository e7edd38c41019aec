"""UMAP and t-SNE planes on data of known structure: clusters that PCA's plane mixes stay apart, the
method's own transform puts a training point back at its place, the lift of a point is the weighted mean
of its neighbours' latents, and the cache is read back only for the plane it was written for."""

from pathlib import Path

import numpy as np
import pytest
import torch

from app.plane_worker import computed_plane
from model.latent_map import MapPlane
from model.planes import (
    LIFT_NEIGHBORS,
    NonlinearMethod,
    NonlinearPlane,
    PlaneKey,
    Transformer,
    fit_embedding,
    read_plane,
    write_plane,
)

CLASSES, PER_CLASS, DIM = 12, 160, 16
SLOW = pytest.mark.slow  # fits UMAP or t-SNE: numba compiles for a quarter of a minute in each process


@pytest.fixture(scope="module")
def clusters() -> tuple[np.ndarray, np.ndarray]:
    """12 clusters at orthogonal, equidistant centres of a 16-D space: any 2-D linear plane shows them
    overlapped (every direction holds the same spread of centres), though they never touch."""
    generator = np.random.default_rng(0)
    labels = np.repeat(np.arange(CLASSES), PER_CLASS)
    mu = 8.0 * np.eye(DIM)[labels] + generator.normal(size=(len(labels), DIM))
    return mu.astype(np.float32), labels


@pytest.fixture(scope="module")
def fitted(clusters: tuple[np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
    mu, _ = clusters
    return {method: fit_embedding(method, mu, lambda stage, fraction: None) for method in ("umap", "tsne")}


def neighbour_agreement(points: np.ndarray, labels: np.ndarray, k: int = 8) -> float:
    """How often the k nearest points of a point (by brute force, in rows of 2,000) share its label."""
    x, classes = torch.as_tensor(points, dtype=torch.float32), torch.as_tensor(labels)
    agreeing = 0.0
    for start in range(0, len(x), 2000):
        distances = torch.cdist(x[start : start + 2000], x)
        rows = torch.arange(len(distances))
        distances[rows, rows + start] = float("inf")  # not its own neighbour
        nearest = distances.topk(k, largest=False).indices
        agreeing += float((classes[nearest] == classes[start : start + 2000, None]).sum())
    return agreeing / (len(x) * k)


@SLOW
@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_separated_clusters_stay_apart_where_the_pca_plane_mixes_them(
    clusters: tuple[np.ndarray, np.ndarray], fitted: dict[str, np.ndarray], method: str
) -> None:
    mu, labels = clusters
    pca_xy = MapPlane.fit(torch.from_numpy(mu)).project(torch.from_numpy(mu)).numpy()
    assert neighbour_agreement(mu, labels) == 1.0  # apart in latent space
    assert neighbour_agreement(pca_xy, labels) < 0.6
    assert neighbour_agreement(fitted[method], labels) > 0.97


@SLOW
def test_progress_is_reported_in_order_up_to_the_whole(clusters: tuple[np.ndarray, np.ndarray]) -> None:
    reports: list[tuple[str, float]] = []
    fit_embedding("tsne", clusters[0][:400], lambda stage, fraction: reports.append((stage, fraction)))
    fractions = [fraction for _, fraction in reports]
    assert reports[0][0] == "finding neighbours" and fractions == sorted(fractions) and fractions[-1] == 1.0


@SLOW
@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_the_methods_own_transform_puts_a_training_point_back_at_its_place(
    clusters: tuple[np.ndarray, np.ndarray], fitted: dict[str, np.ndarray], method: NonlinearMethod
) -> None:
    mu, labels = clusters
    xy = fitted[method]
    chosen = np.arange(0, len(mu), 40)  # 4 points of each cluster
    placed = Transformer(method, mu, xy).transform(mu[chosen] + 1e-3)  # not the fit data itself
    spread = np.linalg.norm(xy.max(axis=0) - xy.min(axis=0))
    assert np.linalg.norm(placed - xy[chosen], axis=1).max() < 0.1 * spread
    nearest = np.argmin(((placed[:, None] - xy[None]) ** 2).sum(axis=2), axis=1)
    assert (labels[nearest] == labels[chosen]).all()


def test_a_point_lifts_to_the_inverse_square_weighted_mean_of_its_nearest_encodings() -> None:
    generator = torch.Generator().manual_seed(1)
    mu, xy = torch.randn(200, 6, generator=generator), torch.randn(200, 2, generator=generator)
    plane = NonlinearPlane("umap", mu, xy)
    on_encodings, distance = plane.lift(xy[:3])
    assert torch.allclose(on_encodings, mu[:3], atol=1e-5) and torch.all(distance == 0)
    point = torch.tensor([0.123, -0.456])
    distances = (xy - point).norm(dim=1)
    nearest = distances.argsort()[:LIFT_NEIGHBORS]
    weights = 1 / distances[nearest] ** 2
    expected = (weights[:, None] * mu[nearest]).sum(dim=0) / weights.sum()
    lifted, distance = plane.lift(point[None])
    assert torch.allclose(lifted[0], expected, atol=1e-5)
    assert float(distance[0]) == pytest.approx(float(distances.min()), abs=1e-6)


def test_a_cached_plane_is_read_back_whole_and_only_for_its_key(tmp_path: Path) -> None:
    key = PlaneKey(weights="abc", dataset="mnist", split="test", points=5, method="tsne")
    xy = np.arange(10, dtype=np.float32).reshape(5, 2)
    assert read_plane(tmp_path, key) is None
    write_plane(tmp_path, key, xy)
    assert np.array_equal(read_plane(tmp_path, key), xy)
    assert [path.name for path in (tmp_path / "planes").iterdir()] == ["test-tsne.safetensors"]
    for other in ({"weights": "retrained"}, {"points": 6}, {"dataset": "emnist"}):
        assert read_plane(tmp_path, PlaneKey(**{**vars(key), **other})) is None


@SLOW
def test_a_cached_plane_is_not_fitted_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = PlaneKey(weights="abc", dataset="mnist", split="test", points=400, method="umap")
    mu = np.random.default_rng(2).normal(size=(400, 4)).astype(np.float32)
    first = computed_plane(tmp_path, key, mu, lambda stage, fraction: None)

    def refit(*_: object) -> np.ndarray:
        raise AssertionError("fitted again")

    monkeypatch.setattr("app.plane_worker.fit_embedding", refit)
    assert np.array_equal(computed_plane(tmp_path, key, mu, lambda stage, fraction: None), first)
