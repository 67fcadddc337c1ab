"""The documentation stays complete and its links resolve (the site itself: ``mkdocs build --strict``).

These checks need no mkdocs: every module of ``nc_verify`` has a ``::: module`` block in the
API reference, every relative link and snippet in ``README.md`` and ``docs/`` points at a
file that exists, every figure is shown, every rounding rule is documented, the claim table
names tests that exist, the README's test command is the one CI runs, and the quick starts run.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
#: Pages that hold the ``::: module`` blocks of the API reference.
API_PAGES = sorted((DOCS / "api").glob("*.md")) + [DOCS / "cli.md"]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
SNIPPET = re.compile(r'^--8<-- "([^":]+)(?::[\w-]+)?"\s*$', re.MULTILINE)
DIRECTIVE = re.compile(r"^::: +([\w.]+)\s*$", re.MULTILINE)


def markdown_files():
    return [README, *sorted(DOCS.rglob("*.md"))]


def prose(text: str) -> str:
    """``text`` without fenced code blocks and inline code (links there are not links)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def documented_objects() -> set:
    return {m for page in API_PAGES for m in DIRECTIVE.findall(page.read_text(encoding="utf-8"))}


def package_modules() -> list:
    """Dotted names of every public module and package under ``nc_verify/`` (from the files)."""
    names = []
    for path in sorted((ROOT / "nc_verify").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts):  # private modules (_flint, _imports) and __main__
            continue
        names.append(".".join(parts))
    return names


def test_package_modules_are_found():
    # guards the walk below: the layers and a few modules it must see
    mods = package_modules()
    for name in ("nc_verify", "nc_verify.objective.problem", "nc_verify.landscape.rounding", "nc_verify.cli"):
        assert name in mods
    assert "nc_verify.certify._flint" not in mods and "nc_verify.__main__" not in mods


@pytest.mark.parametrize("module", package_modules())
def test_every_module_is_in_the_api_reference(module):
    assert module in documented_objects(), (
        f"{module} has no '::: {module}' block in docs/api/*.md (add it to its layer's page)")


def test_api_reference_names_existing_modules():
    for name in documented_objects():
        parts = name.split(".")
        assert parts[0] == "nc_verify", name
        path = ROOT.joinpath(*parts)
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), (
            f"'::: {name}' in the API reference names no module of nc_verify")


def relative_targets(path: Path):
    text = path.read_text(encoding="utf-8")
    for target in LINK.findall(prose(text)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # absolute URL, mailto:, or an anchor on the same page
        yield target.split("#", 1)[0], path.parent
    for target in SNIPPET.findall(text):  # pymdownx.snippets paths are relative to the repository root
        yield target, ROOT


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    broken = [t for t, base in relative_targets(page) if not (base / t).exists()]
    assert not broken, f"{page.relative_to(ROOT)} links to missing files: {broken}"


def test_link_checker_sees_links():
    # the checker must find links in prose and skip those in code
    sample = "see [a](x.md) and ![b](img/y.png \"t\") and [c](https://e.org) `[d](no.md)`\n```\n[e](no2.md)\n```\n"
    assert LINK.findall(prose(sample)) == ["x.md", "img/y.png", "https://e.org"]


def test_every_figure_is_shown():
    shown = "\n".join(p.read_text(encoding="utf-8") for p in markdown_files())
    missing = [f.name for f in sorted((DOCS / "figures").iterdir()) if f"figures/{f.name}" not in shown]
    assert not missing, f"figures not shown on any page: {missing}"


def test_every_rounding_rule_is_documented():
    source = (ROOT / "nc_verify" / "landscape" / "rounding.py").read_text(encoding="utf-8")
    rules = re.findall(r"^def ([a-z]\w*)\(", source, re.MULTILINE)
    assert "eigenvalue_resolution" in rules
    conventions = (DOCS / "conventions.md").read_text(encoding="utf-8")
    missing = [r for r in rules if f"`{r}(" not in conventions]
    assert not missing, f"rounding rules not in docs/conventions.md: {missing}"


def test_claim_table_names_existing_tests():
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Which claim is checked where"):]
    refs = re.findall(r"`((?:tests|proofs_check)/[\w/]+\.py)((?:::\w+)?)`((?:, `::\w+`)*)", table)
    assert len(refs) >= 10
    for path, test, more in refs:
        source = (ROOT / path).read_text(encoding="utf-8")
        for name in re.findall(r"::(\w+)", test + more):
            assert re.search(rf"^def {name}\(", source, re.MULTILINE), f"{path} has no test {name}"


def test_readme_test_command_is_what_ci_runs():
    blocks = re.findall(r"^```bash\n(.*?)^```", README.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    command = [b.strip() for b in blocks if "pytest" in b]
    assert len(command) == 1, "the README should give one test command"
    # CI runs the README's set-up steps, then (after the docs and sdist checks) its test command
    setup, _, test = command[0].rpartition(" && ")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test == "python -m pytest"
    assert setup + " || exit $?" in ci
    assert ci.rstrip().splitlines()[-1] == test, "the test command must be CI's last step"


#: The code a newcomer runs first: the README's quick start and the quick-start page's tour.
QUICK_STARTS = {
    "README.md": r"^## Quick start\n.*?^```python\n(.*?)^```",
    "docs/quickstart.md": r"^## The Python API\n.*?^```python\n(.*?)^```",
}


@pytest.mark.slow
@pytest.mark.parametrize("page", sorted(QUICK_STARTS))
def test_quick_start_runs(page, tmp_path, capsys):
    block = re.search(QUICK_STARTS[page], (ROOT / page).read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    assert block, f"no python block under the quick-start heading of {page}"
    script = tmp_path / "quick_start.py"
    script.write_text(block.group(1), encoding="utf-8")
    runpy.run_path(str(script), run_name="__main__")
    if page == "README.md":  # it prints its results
        assert capsys.readouterr().out.count("\n") >= 5
