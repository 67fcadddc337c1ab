"""Griffe extension: turn the Sphinx roles of nc_verify's docstrings into links of this site.

The docstrings follow numpydoc, the convention of scipy and pymanopt, cross-referencing with
Sphinx roles (``:func:`eigenvalue_floor```, ``:class:`~nc_verify.UFMProblem```). The site is
built with mkdocs and mkdocstrings, which read numpydoc sections but not Sphinx roles, so this
extension rewrites each role, before the docstrings are rendered, into a cross-reference of
mkdocs-autorefs ``[`text`][full.path]``, which the site renders as a link:

- the name is resolved as Sphinx does: a dotted path from the package root; otherwise inside
  the documented object (a method's class, then the module), then each enclosing package
  (a leading dot, ``~.chart.SphereChart``, is dropped); a name found nowhere else is matched as
  a suffix of the package's objects, if exactly one matches; imported names follow to their
  definition;
- a resolved object that the API pages may not show (no docstring) gets an optional link,
  which mkdocs-autorefs renders as plain code when there is no anchor;
- a leading ``~`` shows the last component only (Sphinx's rule);
- a name outside nc_verify (numpy, the standard library) or one that does not resolve becomes
  plain code: ``mkdocs build --strict`` then has no dangling reference to warn about.

It also joins an inline literal (````x````) broken over two docstring lines, which Markdown
would otherwise print as raw backticks. Loaded by mkdocstrings (``extensions`` in mkdocs.yml).
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?P<role>mod|func|class|meth|attr|data|obj|exc|const):`(?P<target>[^`]+)`")
#: An rST inline literal (matched in sequence, so that an opening and a closing pair never swap).
LITERAL = re.compile(r"``(?P<text>[^`]+?)``")


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx cross-reference roles into autorefs links (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        self.root = pkg
        self.suffix_index: dict[str, list[str]] = {}
        objects = list(_walk(pkg))
        for obj in objects:
            parts = obj.path.split(".")
            for i in range(1, len(parts)):
                self.suffix_index.setdefault(".".join(parts[i:]), []).append(obj.path)
        for obj in objects:
            if obj.docstring is not None:
                obj.docstring.value = self.rewrite(obj.docstring.value, obj)

    # -- resolution -------------------------------------------------------------------------
    def lookup(self, path: str, depth: int = 0) -> str | None:
        """Canonical path of the object at dotted ``path`` (following imports), or None."""
        parts = path.split(".")
        if parts[0] != self.root.name or depth > 10:
            return None
        obj: Any = self.root
        for i, name in enumerate(parts[1:], start=1):
            member = obj.members.get(name)
            if member is None:
                return None
            if member.is_alias:
                rest = ".".join([member.target_path, *parts[i + 1:]])
                return self.lookup(rest, depth + 1)
            obj = member
        return obj.path

    def rendered(self, path: str) -> bool:
        """Whether the API reference renders the object at canonical ``path``."""
        obj: Any = self.root
        for name in path.split(".")[1:]:
            if name.startswith("_") and not name.startswith("__"):
                return False
            obj = obj.members[name]
        return obj.docstring is not None

    def resolve(self, target: str, context: griffe.Object) -> str | None:
        name = target.lstrip(".")
        found = self.lookup(name)
        if found:
            return found
        scope: Any = context
        while scope is not None:
            if scope.is_module or scope.is_class:
                found = self.lookup(f"{scope.path}.{name}")
                if found:
                    return found
            scope = scope.parent
        matches = self.suffix_index.get(name, [])
        canonical = {self.lookup(m) or m for m in matches}
        return canonical.pop() if len(canonical) == 1 else None

    def rewrite(self, text: str, context: griffe.Object) -> str:
        def replace(match: re.Match) -> str:
            target = match.group("target").strip()
            explicit = re.fullmatch(r"(?P<title>.+?)\s*<(?P<path>[^>]+)>", target)  # :func:`text <path>`
            if explicit:
                title, target = explicit.group("title"), explicit.group("path")
            else:
                title = None
            short = target.startswith("~")
            target = target.lstrip("~")
            if title is None:
                title = target.lstrip(".").split(".")[-1] if short else target.lstrip(".")
                if match.group("role") in ("func", "meth"):
                    title += "()"
            path = self.resolve(target, context)
            if path is None:
                return f"`{title}`"
            if self.rendered(path):
                return f"[`{title}`][{path}]"
            # resolved, but the API pages may not show it (no docstring): a link when they do
            return f'<autoref identifier="{path}" optional><code>{html.escape(title)}</code></autoref>'


        text = LITERAL.sub(lambda m: "``" + " ".join(m.group("text").split()) + "``", text)
        return ROLE.sub(replace, text)


def _walk(obj: griffe.Object):
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)
