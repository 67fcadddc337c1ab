"""MkDocs hook: fill the command-line page with the ``--help`` text of ``nc-verify``.

A line ``<!-- nc-verify-help: ARGS -->`` in a page is replaced by the text that
``nc-verify ARGS --help`` prints, taken from ``nc_verify.cli.main`` of the checkout being
documented, so the page cannot drift from the parser. The help is formatted to lines of at
most 80 characters, what a code block of the page's text column shows (about 82 characters
with the theme's fonts), and a page with markers must have one for every subcommand (the
build fails naming the missing ones).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError

#: Longest help line: what the page's code blocks show without wrapping.
WIDTH = 80
MARKER = re.compile(r"^<!-- nc-verify-help:(?P<args>[^>]*)-->$", re.MULTILINE)


def _help_text(args: list[str]) -> str:
    from nc_verify.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main([*args, "--help"])
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise RuntimeError(f"nc-verify {' '.join(args)} --help exited with {exc.code}") from exc
    return out.getvalue().rstrip()


def on_config(config, **kwargs):
    root = str(Path(config.config_file_path).resolve().parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    os.environ["COLUMNS"] = str(WIDTH + 2)  # argparse wraps help to the terminal width less 2
    return config


def _subcommands() -> list[str]:
    import argparse

    from nc_verify.cli import build_parser

    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return [name for action in actions for name in action.choices]


def on_page_markdown(markdown, page, config, files, **kwargs):
    shown = {" ".join(m.group("args").split()) for m in MARKER.finditer(markdown)}
    if shown:
        missing = [name for name in _subcommands() if name not in shown]
        if missing:
            raise PluginError(f"{page.file.src_path} has no '<!-- nc-verify-help: NAME -->' for the "
                              f"subcommand(s) {', '.join(missing)}")

    def replace(match):
        args = match.group("args").split()
        command = " ".join(["nc-verify", *args, "--help"])
        return f"```text\n$ {command}\n{_help_text(args)}\n```"

    return MARKER.sub(replace, markdown)
