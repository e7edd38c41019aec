"""The page scripts use Plotly's public API only and find traces by uid, never by position: private
fields (`_fullLayout`, `_hoverdata`, ...) and Plotly's DOM class names change between releases, and a
trace number breaks as soon as a layer is added. They stay small (one feature a module) and only a page's
entry script acts when loaded: every other module waits for its `init`."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "static" / "js"
MAX_LINES = 250
# A statement at the top of a module that does something when it is imported: a call, a loop or a branch,
# or a constant read from the page.
ACTING = re.compile(
    r"^(?:[\w$.]+\s*\(|[\w$]+\.[\w$.]+\s*\(|for\b|if\b|while\b|await\b|(?:const|let)\s.*=\s*(?:document|window|\$)\b)"
)
FORBIDDEN = {
    "a private Plotly field": re.compile(r"\.\s*_[a-zA-Z]\w*"),
    "a Plotly DOM class": re.compile(r"\.(nsewdrag|draglayer|cartesianlayer|hoverlayer)\b"),
    "a trace by number": re.compile(
        r"\bdata\s*\[\s*\d+\s*\]|Plotly\.(restyle|deleteTraces|moveTraces)\(.*\[\s*\d+\s*\]|curveNumber"
    ),
}


def offences(source: str) -> list[str]:
    return [
        f"line {number}: {what}: {line.strip()}"
        for number, line in enumerate(source.splitlines(), start=1)
        for what, pattern in FORBIDDEN.items()
        if pattern.search(line)
    ]


def test_page_scripts_use_only_public_plotly_and_trace_uids() -> None:
    scripts = sorted(SCRIPTS.glob("*.js"))
    assert len(scripts) >= 8
    found = {script.name: offences(script.read_text()) for script in scripts}
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_check_sees_each_kind_of_offence() -> None:
    source = (
        "const r = graph._fullLayout.xaxis;\nbox = g.querySelector('.nsewdrag');\ngraph.data[10].x;\n"
        "Plotly.restyle(graph, update, [11]);\nonFile(input.files[0]);\n"
    )
    assert [line.split(":")[0] for line in offences(source)] == ["line 1", "line 2", "line 3", "line 4"]


def entry_scripts() -> set[str]:
    """The scripts a page loads: named in a template's script tag, or imported on demand by another."""
    templates = "".join(path.read_text() for path in (ROOT / "templates").glob("*.html"))
    scripts = "".join(path.read_text() for path in SCRIPTS.glob("*.js"))
    return set(re.findall(r"js/([\w-]+\.js)'", templates)) | set(
        re.findall(r"import\(\"\./([\w-]+\.js)\"\)", scripts)
    )


def acting_lines(source: str) -> list[str]:
    return [line for line in source.splitlines() if ACTING.match(line)]


def test_page_scripts_stay_small() -> None:
    lengths = {script.name: len(script.read_text().splitlines()) for script in SCRIPTS.glob("*.js")}
    assert {name: length for name, length in lengths.items() if length > MAX_LINES} == {}


def test_only_entry_scripts_act_when_loaded() -> None:
    entries = entry_scripts()
    assert {"explorer.js", "lab.js", "live-models.js", "compare.js"} <= entries
    modules = [script for script in sorted(SCRIPTS.glob("*.js")) if script.name not in entries]
    assert len(modules) >= 10
    found = {script.name: acting_lines(script.read_text()) for script in modules}
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_the_check_sees_a_module_acting_when_loaded() -> None:
    source = (
        'import { x } from "./x.js";\nconst graph = document.getElementById("map");\nconst A = 3;\n'
        '$("go").addEventListener("click", go);\nwindow.addEventListener("load", start);\n'
        "export function init() {\n  start();\n}\nfor (const a of b) a();\nlisten(EVENTS.x, f);\n"
    )
    assert [line.split("(")[0] for line in acting_lines(source)] == [
        "const graph = document.getElementById",
        "$",
        "window.addEventListener",
        "for ",
        "listen",
    ]
