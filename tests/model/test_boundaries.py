import ast
from pathlib import Path

MODEL_PACKAGE = Path(__file__).resolve().parents[2] / "model"
FORBIDDEN = {"app", "fastapi", "pydantic", "starlette"}


def _imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_model_never_imports_the_web_layer() -> None:
    files = sorted(MODEL_PACKAGE.glob("**/*.py"))
    assert len(files) > 5
    offenders = {f.name: _imported_roots(f.read_text()) & FORBIDDEN for f in files}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_check_sees_a_forbidden_import() -> None:
    assert _imported_roots("from app.main import create_app\nimport fastapi.routing") == {"app", "fastapi"}
