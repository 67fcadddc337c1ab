"""MkDocs hook: serve MathJax with the site, from a pinned Python package.

The formulas of this site are typeset by MathJax 3 in the reader's browser. Loading MathJax
from a CDN leaves every formula as raw LaTeX on a machine without network access (a cluster
node, a site read from a source distribution), so the site carries its own copy instead:
``tex-svg-full.js`` from the ``django-static-mathjax`` wheel (MathJax 3.2.2's unmodified
distribution files; the package has no dependencies and needs no Django to be installed).

``tex-svg-full`` is one self-contained file: TeX input with every extension preloaded and SVG
output, so it loads no further script or font. It therefore works offline and from ``file://``
too, where a browser may refuse web fonts.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

#: Where the bundle lies in the built site (``extra_javascript`` in mkdocs.yml names it).
SITE_PATH = "javascripts/mathjax/tex-svg-full.js"


def bundle_path() -> Path:
    """Path of MathJax's ``es5/tex-svg-full.js`` in the installed ``django-static-mathjax``."""
    try:
        import mathjax  # the import name of django-static-mathjax
    except ImportError as exc:  # pragma: no cover - the docs extra installs it
        raise PluginError(
            "the documentation needs MathJax from the 'django-static-mathjax' package: "
            'python -m pip install -e ".[docs]"') from exc
    path = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5" / "tex-svg-full.js"
    if not path.is_file():
        raise PluginError(f"MathJax bundle not found at {path} (django-static-mathjax changed its layout?)")
    return path


def on_config(config, **kwargs):
    if SITE_PATH not in [str(s) for s in config.extra_javascript]:
        raise PluginError(f"mkdocs.yml must list {SITE_PATH} in extra_javascript")
    return config


def on_files(files, config, **kwargs):
    files.append(File.generated(config, SITE_PATH, abs_src_path=str(bundle_path())))
    return files
