"""The gallery's scripts (examples/plot_*.py, run by mkdocs-gallery at every site build) and its hook.

Running the scripts is the site build's job (``mkdocs build --strict`` in CI fails on an
example that raises); here: every script carries the title and explanation its page shows,
and the hook that repairs mkdocs-gallery's figure paths for ``NAME.html`` pages.
"""

import ast
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "examples").glob("plot_*.py"))


def test_scripts_are_found():
    assert len(SCRIPTS) >= 6


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_has_title_and_what_to_look_for(script):
    doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    assert doc is not None, script
    lines = doc.strip().splitlines()
    assert lines[0].startswith("# ") and len(lines[0]) > 10, lines[0]   # the page title
    assert "What to look for" in doc, script.name


def _hook():
    spec = importlib.util.spec_from_file_location("_gallery_images", ROOT / "docs" / "_hooks" / "gallery_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _page(uri):
    return SimpleNamespace(file=SimpleNamespace(src_uri=uri))


def test_hook_rewrites_gallery_figure_paths_for_html_pages():
    hook = _hook()
    html = '<img src="../images/a.png" srcset="../images/a.png"> <a href="../images/a.png">'
    out = hook.on_page_content(html, _page("generated/gallery/plot_x.md"), {"use_directory_urls": False}, None)
    assert out == '<img src="images/a.png" srcset="images/a.png"> <a href="images/a.png">'
    # directory pages, and pages outside the gallery, are left alone
    assert hook.on_page_content(html, _page("generated/gallery/plot_x.md"), {"use_directory_urls": True}, None) == html
    assert hook.on_page_content(html, _page("theorem2.md"), {"use_directory_urls": False}, None) == html
