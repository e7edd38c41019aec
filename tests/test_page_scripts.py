"""The page scripts use Plotly's public API only and find traces by uid, never by position: private
fields (`_fullLayout`, `_hoverdata`, ...) and Plotly's DOM class names change between releases, and a
trace number breaks as soon as a layer is added."""

import re
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "static" / "js"
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
