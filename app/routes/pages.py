"""The HTML pages and the Plotly bundle, served from the plotly package so the page needs no CDN."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import plotly
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from app.deps import LabDep, RegistryDep, problems
from model.evaluation import FIGURE_ROWS

ROOT = Path(__file__).resolve().parents[2]
templates = Jinja2Templates(directory=ROOT / "templates")
PLOTLY_FILE = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_URL = f"/vendor/plotly-{plotly.__version__}.min.js"  # versioned name: cacheable forever
COMPARED = ("recon-2d", "kl-2d", "full-2d")

router = APIRouter(include_in_schema=False)


def _page(request: Request, name: str, registry: RegistryDep, lab: LabDep, **context: object) -> HTMLResponse:
    models = [
        {"id": model_id, "title": served.loaded.info.title, "latent_dim": served.loaded.latent_dim}
        for model_id, served in registry.models.items()
    ]
    return templates.TemplateResponse(
        request,
        name,
        {"models": models, "plotly_url": PLOTLY_URL, "problems": problems(registry, lab), **context},
    )


@router.get("/", response_class=HTMLResponse)
async def explorer(request: Request, registry: RegistryDep, lab: LabDep) -> HTMLResponse:
    return _page(request, "explorer.html", registry, lab)


@router.get("/compare", response_class=HTMLResponse)
async def compare(request: Request, registry: RegistryDep, lab: LabDep) -> HTMLResponse:
    missing = [model_id for model_id in COMPARED if model_id not in registry.models]
    return _page(request, "compare.html", registry, lab, compared=list(COMPARED), missing=missing)


@router.get("/lab", response_class=HTMLResponse)
async def lab_page(request: Request, registry: RegistryDep, lab: LabDep) -> HTMLResponse:
    rows = [asdict(row) for row in FIGURE_ROWS]  # the evaluation table follows the one list of figures
    return _page(request, "lab.html", registry, lab, evaluation_rows=rows)


@router.get(PLOTLY_URL)
async def plotly_bundle() -> FileResponse:
    if not PLOTLY_FILE.is_file():
        raise HTTPException(404, "the plotly package ships no plotly.min.js")
    return FileResponse(
        PLOTLY_FILE,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
