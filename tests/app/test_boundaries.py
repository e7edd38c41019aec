"""app/ reaches model/ only through its public modules (named in the README's layout): the web layer
never touches checkpoint files, the training loop, the network or the objectives directly."""

import ast
from pathlib import Path

APP_PACKAGE = Path(__file__).resolve().parents[2] / "app"
MODEL_PUBLIC = {
    "model.inference",  # load a model folder; encode, decode, interpolate, sample; its training record
    "model.latent_map",  # the map plane, lifting, ellipses, nearest neighbours, the coordinate limit
    "model.planes",  # UMAP and t-SNE planes: fitting, their cache, placing and lifting through them
    "model.point_metrics",  # each image's log p(x), ELBO, reconstruction error, KL, entropy; their cache
    "model.encodings",  # a split's encodings cached beside the model
    "model.density",  # a large map as density tiles by zoom (datashader), and the points of a region
    "model.aggregate_posterior",  # q(z) against p(z) on the map: the prior's holes, draws from q(z)
    "model.evaluation",  # a model's evaluation, its settings, its cache and its one list of figures
    "model.budget",  # an evaluation's time budget, its progress and its stop
    "model.estimators",  # the gradient estimators' variances
    "model.posterior",  # the exact posterior of 2-D models by quadrature, beside the two bounds
    "model.traversal",  # how each latent dimension is used, and the traversal grid
    "model.latent_profile",  # one latent dimension over a split: KL histogram, extremes, class correlation
    "model.disentanglement",  # the disentanglement metrics: their names, settings and scores
    "model.factor_scores",  # a model's disentanglement scores cached beside it; seeds of one recipe
    "model.selection",  # a selection's members, class counts, mean encoding and CSV
    "model.arithmetic",  # attribute vectors between groups, added to an encoding
    "model.classifier",  # load the classifier, classify
    "model.data",  # what a data set is, and its prepared copy
    "model.datasets",  # the data sets by name
    "model.framing",  # framing handwriting as MNIST's digits were (uploads)
    "model.zoo",  # the default models, the beta and disentanglement sweeps, and the jobs completing them
    "model.job_queue",  # training jobs: the queue on disk, each job's events (run by model.job_process)
    "model.records",  # what training writes, typed: each epoch's record, a job's states and events
    "model.config",  # the model and training configs a training request is made of
    "model.likelihoods",  # the likelihoods p(x|z) a model is trained and scored with, by name
    "model.home",  # where data and models live
    "model.factories",  # the user's own models: factories named on the command line, images in memory
    "model.outside",  # the protocol an outside model offers, and wrap() declaring it
    "model.device",  # pick a device
    "model.cli",  # the commands `latent-atlas serve` is added to
}


def _model_imports(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "model"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "model":
            found.add(node.module)
    return found


def test_app_uses_only_the_public_model_modules() -> None:
    files = sorted(APP_PACKAGE.glob("**/*.py"))
    assert len(files) > 10
    used = {f.relative_to(APP_PACKAGE).as_posix(): _model_imports(f.read_text()) for f in files}
    assert {name: found - MODEL_PUBLIC for name, found in used.items() if found - MODEL_PUBLIC} == {}
    assert set().union(*used.values()) == MODEL_PUBLIC  # each public module is used: the list stays true


def test_the_check_sees_a_private_import() -> None:
    source = "from model.checkpoint import load_network\nimport model.train\nfrom model.inference import X"
    assert _model_imports(source) - MODEL_PUBLIC == {"model.checkpoint", "model.train"}


ROOT = APP_PACKAGE.parent
ROUTES = "app.routes"


def _route_imports(source: str) -> set[str]:
    """The route modules a source imports (`from app.routes import x` names app.routes.x)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith(ROUTES)}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(ROUTES):
            modules = [f"{node.module}.{alias.name}" for alias in node.names]
            found |= set(modules) if node.module == ROUTES else {node.module}
    return found


def test_only_the_app_factory_imports_route_modules() -> None:
    """Routes are leaves: what two of them share (response builders, uploads, dependencies) has a home of
    its own, so no route module is used as a library, by the app or by the tests."""
    files = [
        path
        for folder in ("app", "tests", "bench", "examples", "latent_atlas")
        for path in (ROOT / folder).rglob("*.py")
    ]
    assert len(files) > 50
    importers = {f.relative_to(ROOT).as_posix() for f in files if _route_imports(f.read_text())}
    assert importers == {"app/main.py"}


def test_the_check_sees_a_route_module_imported() -> None:
    source = (
        "from app.routes.maps import map_body\nfrom app.routes import jobs, health\nfrom app.deps import X"
    )
    assert _route_imports(source) == {"app.routes.maps", "app.routes.jobs", "app.routes.health"}
