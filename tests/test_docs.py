"""The documentation stays complete and its links resolve (the site itself: ``mkdocs build --strict``).

These checks need no mkdocs: every module of ``nc_verify`` has a ``::: module`` block in the
API reference, every relative link and snippet in ``README.md`` and ``docs/`` points at a
file that exists, every figure is shown, every rounding rule is documented, the claim table
names tests that exist, the README's test command is the one CI runs, and the quick starts run.
"""

from __future__ import annotations

import re
import runpy
import sys
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


#: Control characters a TeX command turns into when written from a Python string without escaping
#: its backslash (``"\\tau"`` spelt ``"\tau"`` is a tab then "au"; ``\b``, ``\f``, ``\v``, ``\a`` alike).
CONTROL = re.compile(r"[\t\a\b\f\v]")


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_control_characters(page):
    """A formula like "$\\tau = 2$" written with "\\t" unescaped renders as "au = 2" without any error."""
    lines = [i + 1 for i, line in enumerate(page.read_text(encoding="utf-8").splitlines()) if CONTROL.search(line)]
    assert not lines, f"{page.relative_to(ROOT)}: control characters (a TeX backslash lost?) on lines {lines}"


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_maths_in_headings(page):
    """Inline maths in a heading reaches the table of contents as raw TeX (the site's maths check fails on it)."""
    heads = [line for line in prose(page.read_text(encoding="utf-8")).splitlines()
             if line.startswith("#") and "$" in line]
    assert not heads, f"{page.relative_to(ROOT)}: headings with inline maths: {heads}"


def test_control_character_check_sees_a_lost_backslash():
    assert CONTROL.search("$\tau = 2$") and not CONTROL.search(r"$\tau = 2$")


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


# -- the built site's formulas (scripts/check_docs_math.py) and the docs build hooks ------------

def _load(path: Path, name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


check_docs_math = _load(ROOT / "scripts" / "check_docs_math.py", "_nc_verify_check_docs_math")
BUNDLE = f'<script src="../{check_docs_math.MATHJAX_BUNDLE}"></script>'


def page(body: str, scripts: str = BUNDLE) -> str:
    return f"<html><body><article>{body}</article>{scripts}</body></html>"


RENDERED = (r'<p>For <span class="arithmatex">\(d \ge K\)</span>,</p>'
            r'<div class="arithmatex">\[ f(W, H) \;\ge\; \log\Bigl(1 + (K-1)e^{-K\tau/(K-1)}\Bigr) \]</div>'
            r'<pre><code>tau = 2.0  # \tau in code is code: $\frac{a}{b}$</code></pre>')


def test_docs_math_check_passes_rendered_formulas():
    assert check_docs_math.check_html("ok.html", page(RENDERED)) == []


@pytest.mark.parametrize("raw", [
    r"For [ f(W, H) \;\ge\; \log K ]",               # \[ that Markdown turned into [ (the Theorem 1 bug)
    r"the bound $$\log K$$ holds",                   # display dollars left in a paragraph
    r"with $\tau < 2(d-2)$ here",                    # inline dollars nobody converted
    r"\(\lambda_{\min}\) outside an arithmatex span",
    r"the gradient is G_{kj} = p_{kj} - y_{kj}",     # a TeX subscript group
])
def test_docs_math_check_flags_raw_tex(raw):
    findings = check_docs_math.check_html("bad.html", page(f"<p>ok</p><p>{raw}</p>"))
    assert len(findings) == 1 and findings[0].page == "bad.html"
    assert "raw TeX outside math" in findings[0].what


@pytest.mark.parametrize("body, what", [
    (r'<span class="arithmatex">\lambda_{\min}</span>', "not delimited"),
    (r'<div class="arithmatex">\( x \)</div>', "not delimited"),          # a display needs \[ \]
    (r'<span class="arithmatex">\(\frac{1}{2\)</span>', "unbalanced braces"),
    (r'<div class="arithmatex">\[\begin{aligned} a &= b \end{align}\]</div>', "do not pair"),
])
def test_docs_math_check_flags_broken_math_elements(body, what):
    findings = check_docs_math.check_html("bad.html", page(body))
    assert [what in f.what for f in findings] == [True]


def test_docs_math_check_requires_the_bundled_mathjax(tmp_path):
    body = r'<span class="arithmatex">\(x\)</span>'
    cdn = '<script src="https://unpkg.com/mathjax@3/es5/tex-mml-chtml.js"></script>'
    assert [f.what for f in check_docs_math.check_html("p.html", page(body, scripts=""))] == [
        "page has formulas but does not load the bundled MathJax"]
    assert "script loaded from the network" in [f.what for f in check_docs_math.check_html(
        "p.html", page(body, scripts=BUNDLE + cdn))]
    # a whole site: the planted raw formula is reported with its page, and so is a missing bundle
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text(page(RENDERED), encoding="utf-8")
    (tmp_path / "b.html").write_text(page(r"<p>raw \frac{1}{2} here</p>"), encoding="utf-8")
    findings = check_docs_math.check_site(tmp_path)
    assert sorted(f.page for f in findings) == sorted([check_docs_math.MATHJAX_BUNDLE, "b.html"])
    bundle = tmp_path / check_docs_math.MATHJAX_BUNDLE
    bundle.parent.mkdir(parents=True)
    bundle.write_text("", encoding="utf-8")
    assert [f.page for f in check_docs_math.check_site(tmp_path)] == ["b.html"]
    assert check_docs_math.main([str(tmp_path)]) == 1
    (tmp_path / "b.html").unlink()
    assert check_docs_math.main([str(tmp_path)]) == 0


def test_cli_page_documents_every_subcommand_within_the_column(monkeypatch):
    hook = _load(DOCS / "_hooks" / "cli_help.py", "_nc_verify_cli_help")
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    shown = {" ".join(m.group("args").split()) for m in hook.MARKER.finditer(text)}
    assert set(hook._subcommands()) | {""} == shown
    assert {"prove", "verify", "certify"} <= shown
    monkeypatch.setenv("COLUMNS", str(hook.WIDTH + 2))  # what the hook sets for the build
    widths = {args: max(map(len, hook._help_text(args.split()).splitlines())) for args in shown}
    assert max(widths.values()) <= hook.WIDTH, widths
    assert max(widths.values()) > hook.WIDTH - 10  # argparse did use the width it was given


SPHINX_PACKAGE = {
    "pkg/__init__.py": '"""Top.\n\nSee :func:`~pkg.core.area`, :class:`Shape`, :mod:`.core`, '
                       ':func:`numpy.dot` and :data:`~pkg.core._private`."""\n'
                       "from pkg.core import Shape, area\n",
    "pkg/core.py": '"""Core."""\n\n_private = 1\n\n\n'
                   'class Shape:\n    """A shape; see :meth:`scaled` and :func:`area`."""\n\n'
                   '    def scaled(self):\n        """Scaled, see :attr:`size`; ``a long\n        literal``."""\n\n'
                   "    size = 1\n\n\n"
                   'def area(s):\n    """Area of :class:`Shape` (:func:`pkg.area`)."""\n',
}


def test_sphinx_roles_become_links(tmp_path):
    griffe = pytest.importorskip("griffe")  # installed with the docs extra
    for name, source in SPHINX_PACKAGE.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(source, encoding="utf-8")
    roles = _load(DOCS / "_hooks" / "sphinx_roles.py", "sphinx_roles")
    pkg = griffe.load("pkg", search_paths=[str(tmp_path)], extensions=griffe.load_extensions(roles.SphinxRoles))
    top = pkg.docstring.value
    assert "[`area()`][pkg.core.area]" in top                # ~ keeps the last component
    assert "[`Shape`][pkg.core.Shape]" in top                # an imported name: its definition
    assert "[`core`][pkg.core]" in top                       # a relative module
    assert "`numpy.dot()`" in top and "[`numpy.dot()`]" not in top   # outside the package: code
    # resolved but without a docstring (not rendered): an optional link, plain code when absent
    assert '<autoref identifier="pkg.core._private" optional><code>_private</code></autoref>' in top
    cls = pkg["core.Shape"]
    assert "[`scaled()`][pkg.core.Shape.scaled]" in cls.docstring.value   # the class's own member
    assert "[`area()`][pkg.core.area]" in cls.docstring.value              # then the module
    method = cls.members["scaled"].docstring.value
    assert '<autoref identifier="pkg.core.Shape.size" optional>' in method
    assert "``a long literal``" in method                                  # a literal rejoined
    assert "[`pkg.area()`][pkg.core.area]" in pkg["core.area"].docstring.value
    assert ":func:" not in top + method and ":class:" not in cls.docstring.value


def test_docs_math_check_typesets_in_a_browser(tmp_path):
    import shutil

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no headless Chromium on PATH (Debian: apt-get install chromium)")
    pytest.importorskip("mathjax", reason="the docs extra (django-static-mathjax) is not installed")
    hook = _load(DOCS / "_hooks" / "mathjax_local.py", "_nc_verify_mathjax_local")
    bundle = hook.bundle_path()        # installed but without the bundle: a real failure, not a skip
    (tmp_path / "javascripts" / "mathjax").mkdir(parents=True)
    shutil.copy(DOCS / "javascripts" / "mathjax.js", tmp_path / "javascripts" / "mathjax.js")
    shutil.copy(bundle, tmp_path / check_docs_math.MATHJAX_BUNDLE)
    scripts = ('<script src="javascripts/mathjax.js"></script>'
               f'<script src="{check_docs_math.MATHJAX_BUNDLE}"></script>')
    good = r'<span class="arithmatex">\(\tau < 2(d-2)\)</span>'
    (tmp_path / "ok.html").write_text(page(good, scripts), encoding="utf-8")
    (tmp_path / "bad.html").write_text(page(
        good + r'<span class="arithmatex">\(\foo x\)</span><span class="arithmatex">\(\frac{1}\)</span>',
        scripts), encoding="utf-8")
    assert check_docs_math.typeset_in_browser(tmp_path, browser, "ok.html") == []
    found = check_docs_math.typeset_in_browser(tmp_path, browser, "bad.html")
    assert sorted((f.what, f.snippet) for f in found) == [
        ("MathJax error", r"Missing argument for \frac"), ("undefined TeX macro", r"\foo")]
