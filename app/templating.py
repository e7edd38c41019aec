"""Where the pages come from: the repository's templates and static files, and the Plotly bundle the
plotly package ships (served to the pages, inlined into an exported map), so no page needs a CDN."""

from __future__ import annotations

from pathlib import Path

import plotly
from fastapi.templating import Jinja2Templates

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "static"
templates = Jinja2Templates(directory=ROOT / "templates")
PLOTLY_FILE = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_URL = f"/vendor/plotly-{plotly.__version__}.min.js"  # versioned name: cacheable forever
