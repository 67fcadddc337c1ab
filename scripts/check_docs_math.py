"""Check that every formula of the documentation site reaches MathJax, served with the site.

Usage::

    python scripts/check_docs_math.py SITE_DIR     # a site built with mkdocs build
    python scripts/check_docs_math.py              # builds the site (mkdocs build --strict) first
    python scripts/check_docs_math.py SITE_DIR --browser chromium   # also typeset every page

The site's formulas are written in LaTeX and typeset in the browser by MathJax, which only
looks inside the elements that ``pymdownx.arithmatex`` emits (``class="arithmatex"``). A formula
that Markdown mangled before arithmatex saw it (``\\[`` turned into ``[`` inside a paragraph,
a ``$$`` not on its own lines) is left as raw TeX in the page. The check reads every HTML
page and reports, with the page and a snippet,

- TeX outside code and outside arithmatex elements: a control sequence (``\\frac``, ``\\tau``,
  ``\\;``), a math delimiter (``\\[``, ``\\(``, ``$$``) or a ``$...$`` pair holding TeX;
- arithmatex elements MathJax cannot take: not delimited by ``\\(...\\)`` / ``\\[...\\]``,
  unbalanced braces, ``\\begin`` / ``\\end`` that do not pair;
- a page with formulas that does not load the bundled MathJax, or loads any script from the
  network.

With ``--browser`` (a headless Chromium), every page with formulas is also opened from
``file://`` and MathJax run on it: a formula MathJax did not typeset, or typeset as an error
(unknown macro, bad argument), is reported too.

Exit status 0 when nothing is found, 1 with a list of findings, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import html
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

#: The bundle the site serves (docs/_hooks/mathjax_local.py).
MATHJAX_BUNDLE = "javascripts/mathjax/tex-svg-full.js"

#: Raw TeX in prose: a control word or control symbol, a math delimiter, a TeX superscript group,
#: or a ``$...$`` pair holding a backslash, ``^`` or ``_``.
RAW_TEX = re.compile(
    r"\\[A-Za-z]+|\\[\[\]()]|\\[,;:!{}|]|\$\$|[\^_]\{|\$[^$\s][^$\n]*?[\\^_][^$\n]*?\$")
#: Elements whose text is code, not prose.
CODE_TAGS = {"code", "pre", "script", "style", "kbd", "samp", "textarea"}
BLOCK_TAGS = {"p", "div", "li", "td", "th", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6",
              "blockquote", "table", "ul", "ol", "details", "summary", "section", "article"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
             "source", "track", "wbr"}


@dataclass
class Finding:
    page: str
    what: str
    snippet: str

    def __str__(self) -> str:
        return f"{self.page}: {self.what}: {self.snippet!r}"


class _PageParser(HTMLParser):
    """Splits a page's text into prose, code and arithmatex elements; collects script sources."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []  # (tag, role) with role in {"", "code", "math"}
        self.prose: list[str] = []
        self.math: list[tuple[str, list[str]]] = []  # (tag, text pieces) per arithmatex element
        self.scripts: list[str] = []

    def _role(self) -> str:
        for _, role in reversed(self.stack):
            if role:
                return role
        return ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        if tag in VOID_TAGS:
            return
        role = ""
        if self._role() == "":
            if tag in CODE_TAGS:
                role = "code"
            elif "arithmatex" in (attrs.get("class") or "").split():
                role = "math"
                self.math.append((tag, []))
        elif tag in CODE_TAGS and self._role() != "math":
            role = "code"
        self.stack.append((tag, role))

    def handle_endtag(self, tag):
        if tag in VOID_TAGS:
            return
        # close the innermost open element of this tag (HTML as mkdocs writes it is well nested)
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        if self._role() == "" and tag in BLOCK_TAGS:
            self.prose.append("\n\n")  # a block element ends a block of prose

    def handle_data(self, data):
        role = self._role()
        if role == "math":
            self.math[-1][1].append(data)
        elif role == "":
            self.prose.append(data)


def _snippet(text: str, start: int, end: int, width: int = 40) -> str:
    return " ".join(text[max(0, start - width):end + width].split())


def _balanced(tex: str) -> bool:
    depth = 0
    for match in re.finditer(r"\\.|[{}]", tex, re.DOTALL):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def check_html(page: str, html: str) -> list[Finding]:
    """Findings for one HTML page (``page`` names it in the report)."""
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    findings = []
    for text in "".join(parser.prose).split("\n\n"):  # one finding per block of prose
        matches = list(RAW_TEX.finditer(text))
        if matches:
            what = "raw TeX outside math" + (f" ({len(matches)} pieces)" if len(matches) > 1 else "")
            findings.append(Finding(page, what, _snippet(text, matches[0].start(), matches[0].end())))
    for tag, pieces in parser.math:
        tex = "".join(pieces).strip()
        opener, closer = (r"\[", r"\]") if tag == "div" else (r"\(", r"\)")
        if not (tex.startswith(opener) and tex.endswith(closer)):
            findings.append(Finding(page, f"math element not delimited by {opener}...{closer}", tex[:80]))
            continue
        body = tex[2:-2]
        if not _balanced(body):
            findings.append(Finding(page, "unbalanced braces in formula", body[:80]))
        if re.findall(r"\\begin\{(\w+\*?)\}", body) != re.findall(r"\\end\{(\w+\*?)\}", body):
            findings.append(Finding(page, "\\begin/\\end do not pair in formula", body[:80]))
    if parser.math:
        if not any(src.endswith(MATHJAX_BUNDLE) for src in parser.scripts):
            findings.append(Finding(page, "page has formulas but does not load the bundled MathJax",
                                    MATHJAX_BUNDLE))
    for src in parser.scripts:
        if re.match(r"(https?:)?//", src):
            findings.append(Finding(page, "script loaded from the network", src))
    return findings


def check_site(site: Path) -> list[Finding]:
    """Findings for every HTML page under the built site ``site``."""
    pages = sorted(site.rglob("*.html"))
    if not pages:
        raise ValueError(f"site: no HTML pages under {site} (expected a directory built by mkdocs)")
    findings = []
    for path in pages:
        findings += check_html(str(path.relative_to(site)), path.read_text(encoding="utf-8"))
    if not (site / MATHJAX_BUNDLE).is_file():
        findings.append(Finding(MATHJAX_BUNDLE, "the MathJax bundle is missing from the site", ""))
    return findings


def typeset_in_browser(site: Path, browser: str, page: str) -> list[Finding]:
    """Findings for ``page`` opened in the headless ``browser``, after MathJax has run."""
    url = (site / page).resolve().as_uri()
    try:
        dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                              "--virtual-time-budget=15000", "--dump-dom", url],
                             capture_output=True, text=True, timeout=120).stdout
    except subprocess.TimeoutExpired:
        return [Finding(page, "the browser did not finish the page in 120 s", url)]
    source = (site / page).read_text(encoding="utf-8")
    expected = len(re.findall(r'class="arithmatex"', source))
    typeset = len(re.findall(r"<mjx-container\b", dom))
    findings = []
    if typeset < expected:
        findings.append(Finding(page, "formulas MathJax did not typeset", f"{typeset} of {expected}"))
    for match in re.finditer(r'<g data-mml-node="merror"[^>]*data-mjx-error="([^"]*)"', dom):
        findings.append(Finding(page, "MathJax error", html.unescape(match.group(1))))
    # an undefined macro is shown in red, not as an error (MathJax's noundefined package)
    for match in re.finditer(r'<mtext mathcolor="red">([^<]*)</mtext>', dom):
        findings.append(Finding(page, "undefined TeX macro", html.unescape(match.group(1))))
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", type=Path,
                        help="a built site directory (default: build one with mkdocs build --strict)")
    parser.add_argument("--browser", metavar="CHROMIUM",
                        help="also open every page with formulas in this headless Chromium and check "
                             "that MathJax typesets each formula without error")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site
        if site is None:
            site = Path(tmp) / "site"
            root = Path(__file__).resolve().parents[1]
            subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                            "--site-dir", str(site)], cwd=root, check=True)
        elif not site.is_dir():
            parser.error(f"site: {site} is not a directory")
        try:
            findings = check_site(site)
        except ValueError as exc:
            parser.error(str(exc))
        if args.browser:
            for path in sorted(site.rglob("*.html")):
                if 'class="arithmatex"' in path.read_text(encoding="utf-8"):
                    findings += typeset_in_browser(site, args.browser, str(path.relative_to(site)))
    for finding in findings:
        print(finding)
    pages = len({f.page for f in findings})
    print(f"{len(findings)} unrendered-formula finding(s) on {pages} page(s)" if findings
          else "no unrendered TeX: every formula is in a MathJax element and MathJax is served with the site")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
