"""/api/models: list, map, decode, encode, interpolate, grid and samples."""

from __future__ import annotations

from typing import Annotated, Literal

import torch
from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.datastructures import UploadFile

from app.atlas import ServedModel
from app.deps import AtlasDep, ModelDep
from app.images import ImageInputError, decode_data_url, open_image, png_bytes, png_data_urls, to_grayscale
from app.preprocess import mnist_like
from app.schemas import (
    ERROR_RESPONSES,
    DecodedPoints,
    DecodeRequest,
    Encoding,
    Endpoint,
    Images,
    InterpolateRequest,
    LatentMap,
    ModelSummary,
)
from app.validation import (
    check_coordinates,
    check_latent,
    latent_vector,
    parse_comma_list,
    parse_range,
    query_number,
)
from model.data import IMAGE_SIZE

router = APIRouter(prefix="/api/models", tags=["models"], responses=ERROR_RESPONSES)
MAX_GRID = 40
MAX_PRIOR_SAMPLES = 256
PNG = "image/png"


def summary(model_id: str, served: ServedModel) -> ModelSummary:
    info = served.model.info
    return ModelSummary.model_validate(
        {
            "id": model_id,
            "title": info.title,
            "loss": info.training.loss,
            "beta": info.training.kl_weight,
            "latent_dim": info.model.latent_dim,
            "dataset": info.data.get("name", "mnist"),
            "epochs": info.epochs_completed,
            "coordinate_limit": served.coordinate_limit,
            "test_metrics": info.metrics,
        }
    )


@router.get("")
async def list_models(atlas: AtlasDep) -> list[ModelSummary]:
    return [summary(model_id, served) for model_id, served in atlas.models.items()]


@router.get("/{model_id}/map", response_model=LatentMap)
async def latent_map(
    served: ModelDep,
    model_id: str,
    split: Literal["test"] = "test",  # only the test split is encoded; the parameter is in the contract
    limit: Annotated[int, Query(ge=1, le=10_000)] = 10_000,
) -> Response:
    """The test digits' posterior means on the map plane, with their labels and per-axis sigma."""
    return Response(served.map_json(model_id, limit), media_type="application/json")


def _check_point(served: ServedModel, point: list[float], what: str) -> list[float]:
    """A map point [x, y] or a full latent z, checked (finite, in range, a length the model takes)."""
    if len(point) not in (2, served.model.latent_dim):
        raise HTTPException(
            422, f"{what}: got {len(point)} values; send [x, y] or a z of length {served.model.latent_dim}"
        )
    check_coordinates(point, what, served.coordinate_limit)
    return point


# The hover path: one request per mouse move from every open page. It reads its query itself because
# FastAPI's validation of three optional parameters costs ~70 us of a ~340 us request (in-process, 32
# concurrent); documented here as FastAPI would have documented them.
DECODE_PNG_QUERY = {
    "parameters": [
        {"name": "x", "in": "query", "schema": {"type": "number"}, "description": "map x (give y too)"},
        {"name": "y", "in": "query", "schema": {"type": "number"}, "description": "map y (give x too)"},
        {
            "name": "z",
            "in": "query",
            "schema": {"type": "string"},
            "description": "instead of x and y: the full latent vector, comma-separated",
            "example": "0.5,-1.25",
        },
    ]
}


@router.get(
    "/{model_id}/decode.png",
    response_class=Response,
    responses={200: {"content": {PNG: {}}}},
    openapi_extra=DECODE_PNG_QUERY,
)
async def decode_png(served: ModelDep, request: Request) -> Response:
    """The decoder's mean image at map point (x, y), or at the full latent vector z."""
    query = request.query_params
    x, y, z = query_number(query, "x"), query_number(query, "y"), query.get("z")
    if z is not None:
        point = parse_comma_list(z, "z")  # never a map point, even with two values
        check_latent(point, served.model.latent_dim, "z", served.coordinate_limit)
    elif x is not None and y is not None:
        point = _check_point(served, [x, y], "x, y")
    else:
        raise HTTPException(422, "give x and y (map coordinates) or z (a comma-separated latent vector)")
    png = await served.png_decoder(point)
    return Response(png, media_type=PNG, headers={"Cache-Control": "public, max-age=3600"})


@router.post("/{model_id}/decode")
async def decode_points(served: ModelDep, request: DecodeRequest) -> Images:
    """Decode up to 1,024 points in one batch."""
    points = [_check_point(served, point, f"points[{i}]") for i, point in enumerate(request.points)]
    return Images(images=png_data_urls(served.model.decode(served.latents_of(points))))


async def _read_upload(request: Request) -> bytes:
    """The image bytes of a multipart `file` field or a JSON {"image": data URL} body."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        async with request.form() as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise HTTPException(422, "multipart body has no 'file' field with an image")
            return await upload.read()
    if content_type.startswith("application/json"):
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            raise HTTPException(422, "body is not valid JSON (or nested too deeply)") from error
        if not isinstance(body, dict) or not isinstance(body.get("image"), str):
            raise HTTPException(422, 'JSON body must be {"image": "data:image/png;base64,..."}')
        return decode_data_url(body["image"])
    raise HTTPException(415, "send multipart/form-data with a 'file' field, or JSON with an 'image' data URL")


def _digit_from_bytes(data: bytes) -> torch.Tensor:
    return mnist_like(to_grayscale(open_image(data)))


ENCODE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/json": {
                "schema": {"$ref": "#/components/schemas/EncodeRequest"},
                "example": {"image": "data:image/png;base64,iVBORw0KGgo..."},
            },
        },
    }
}


@router.post("/{model_id}/encode", openapi_extra=ENCODE_BODY)
async def encode(served: ModelDep, request: Request) -> Encoding:
    """Preprocess an uploaded or drawn digit as MNIST was made, then encode it: q(z|x), its place on the
    map, its reconstruction and its 8 nearest test digits in latent space."""
    try:
        digit = _digit_from_bytes(await _read_upload(request))
    except ImageInputError as error:
        raise HTTPException(error.status, error.detail) from error
    return await served.digit_encoder(digit)


def _endpoint_latent(served: ServedModel, endpoint: Endpoint, what: str) -> torch.Tensor:
    given = [name for name in ("index", "z", "image") if getattr(endpoint, name) is not None]
    if len(given) != 1:
        raise HTTPException(422, f"{what}: give exactly one of index, z or image (got {given or 'none'})")
    if endpoint.index is not None:
        count = served.test_mu.shape[0]
        if not 0 <= endpoint.index < count:
            raise HTTPException(404, f"{what}: no test digit {endpoint.index} (0..{count - 1})")
        return served.test_mu[endpoint.index]
    if endpoint.z is not None:
        return latent_vector(endpoint.z, served.model.latent_dim, f"{what}.z", served.coordinate_limit)
    try:
        digit = _digit_from_bytes(decode_data_url(endpoint.image or ""))
    except ImageInputError as error:
        raise HTTPException(error.status, f"{what}.image: {error.detail}") from error
    return served.model.encode(digit[None])[0][0]


def _decoded_points(served: ServedModel, z: torch.Tensor, images: torch.Tensor) -> DecodedPoints:
    return DecodedPoints(
        z=z.tolist(),
        map_xy=served.plane.project(z).tolist(),
        images=png_data_urls(images),
    )


@router.post("/{model_id}/interpolate")
async def interpolate(served: ModelDep, request: InterpolateRequest) -> DecodedPoints:
    """Decode `steps` points from start to end, both included (linear or spherical)."""
    z_start = _endpoint_latent(served, request.start, "start")
    z_end = _endpoint_latent(served, request.end, "end")
    return _decoded_points(served, *served.model.interpolate(z_start, z_end, request.steps, request.method))


def _gaussian_axis(n: int) -> torch.Tensor:
    # Equal prior mass between neighbours: the inverse CDF of N(0, 1) (Kingma & Welling, Fig. 4).
    quantiles = torch.linspace(0.5 / n, 1 - 0.5 / n, n, dtype=torch.float64)
    axis: torch.Tensor = torch.special.ndtri(quantiles).float()
    return axis


@router.get("/{model_id}/grid.png", response_class=Response, responses={200: {"content": {PNG: {}}}})
async def grid_png(
    served: ModelDep,
    n: Annotated[int, Query(ge=2, le=MAX_GRID)] = 20,
    spacing: Literal["gaussian", "linear"] = "gaussian",
    extent: Annotated[
        float, Query(gt=0, le=1000, description="with linear spacing: the grid spans +-extent")
    ] = 3.0,
    x_range: Annotated[
        str | None, Query(description="with linear spacing: 'low,high' (e.g. a zoomed view)")
    ] = None,
    y_range: Annotated[str | None, Query(description="with linear spacing: 'low,high'")] = None,
) -> Response:
    """The decoded manifold: an n x n mosaic of 28x28 tiles over the map plane, y increasing upwards.
    With linear spacing, tile centres sit at the centres of n equal cells of the range."""
    if spacing == "gaussian":
        x_axis = y_axis = _gaussian_axis(n)
    else:
        limit = served.coordinate_limit
        (x_low, x_high), (y_low, y_high) = (
            parse_range(x_range, extent, "x_range", limit),
            parse_range(y_range, extent, "y_range", limit),
        )
        cells = (torch.arange(n) + 0.5) / n
        x_axis, y_axis = x_low + (x_high - x_low) * cells, y_low + (y_high - y_low) * cells
    ys, xs = torch.meshgrid(y_axis.flip(0), x_axis, indexing="ij")  # top row is the largest y, as on a plot
    xy = torch.stack([xs.flatten(), ys.flatten()], dim=1)
    tiles = served.model.decode(served.plane.lift(xy)).reshape(n, n, IMAGE_SIZE, IMAGE_SIZE)
    mosaic = tiles.permute(0, 2, 1, 3).reshape(n * IMAGE_SIZE, n * IMAGE_SIZE)
    return Response(png_bytes(mosaic), media_type=PNG)


@router.get("/{model_id}/samples")
async def samples(
    served: ModelDep,
    n: Annotated[int, Query(ge=1, le=MAX_PRIOR_SAMPLES)] = 16,
    seed: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    temperature: Annotated[float, Query(gt=0, le=5)] = 1.0,
) -> DecodedPoints:
    """Draws from the prior N(0, temperature^2 I), decoded: what the model generates."""
    return _decoded_points(served, *served.model.sample(n, seed=seed, temperature=temperature))
