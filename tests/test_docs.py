"""The README and docs/ show commands that work today and links that lead somewhere: every `latent-atlas`
command (in shell blocks, inline, or after torchrun's `-m app.cli`) parses with the CLI's own parser,
every `make` target exists, every `python bench/...` script exists and takes the flags shown, and every
relative link names a file of the repository."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from app.cli import add_serve
from model.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
INLINE = re.compile(r"`((?:latent-atlas|make|python bench/) [^`]*)`")
# Placeholders prose puts in a command: a count (N) stands for a number, "..." for more of the same.
PLACEHOLDERS = {"N": "2", "...": None}
ENVIRONMENT = re.compile(r"^(?:[A-Z_]+=\S+\s+)+")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def commands(text: str) -> list[str]:
    """The commands a page shows: each line of its shell blocks (continuations joined, comments cut)
    and its inline commands."""
    found = []
    for block in SHELL_BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split(" #")[0].strip()
            if command and not command.startswith("#"):
                found.append(command)
    return found + INLINE.findall(text)


def problem(command: str) -> str | None:
    """What is wrong with a command as the docs show it, or None."""
    words = [PLACEHOLDERS.get(word, word) for word in shlex.split(ENVIRONMENT.sub("", command))]
    words = [word for word in words if word is not None]
    if words[0] == "torchrun":
        words = ["latent-atlas", *words[words.index("app.cli") + 1 :]] if "app.cli" in words else words
    if words[0] == "latent-atlas":
        try:
            build_parser(add_serve).parse_args(words[1:])
        except SystemExit:
            return "the CLI refuses it"
        return None
    if words[0] == "make":  # targets, and variables set on the command line (make test PARALLEL=)
        makefile = (ROOT / "Makefile").read_text()
        targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
        variables = set(re.findall(r"^(\w+) \??=", makefile, re.M))
        asked = {word for word in words[1:] if "=" not in word}
        settings = {word.split("=")[0] for word in words[1:] if "=" in word}
        if not settings <= variables:
            return f"no make variable {settings - variables}"
        return None if asked <= targets else f"no make target {asked - targets}"
    if words[0] == "python" and words[1].startswith("bench/"):
        script = ROOT / words[1]
        if not script.is_file():
            return "no such script"
        flags = [word.split("=")[0] for word in words[2:] if word.startswith("--")]
        unknown = [flag for flag in flags if f'"{flag}"' not in script.read_text()]
        return f"the script takes no {unknown}" if unknown else None
    return None  # another tool's command (docker, apt-get, torchrun --no-python ...)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_command_shown_works(page: Path) -> None:
    shown = commands(page.read_text())
    found = {command: problem(command) for command in shown}
    assert {command: why for command, why in found.items() if why} == {}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_leads_to_a_file(page: Path) -> None:
    links = [link for link in LINK.findall(page.read_text()) if "://" not in link]
    assert [link for link in links if not (page.parent / link).exists()] == []


def test_the_checks_see_a_broken_command_and_link() -> None:
    assert problem("latent-atlas train --no-such-flag") == "the CLI refuses it"
    assert problem("make no-such-target") == "no make target {'no-such-target'}"
    assert problem("make test NO_SUCH=1") == "no make variable {'NO_SUCH'}"
    assert problem("make test PARALLEL=") is None
    assert problem("python bench/event_replays.py --streams 3 --nope 2") == "the script takes no ['--nope']"
    assert problem("LATENT_ATLAS_HOME=/x latent-atlas serve --no-training") is None
    assert commands("```sh\nmake run   # serve\nlatent-atlas eval a \\\n  --fresh\n```\n") == [
        "make run",
        "latent-atlas eval a    --fresh",
    ]
