"""MkDocs hook: fill the command-line page with the ``--help`` text of ``nc-verify``.

A line ``<!-- nc-verify-help: ARGS -->`` in a page is replaced by the text that
``nc-verify ARGS --help`` prints, taken from ``nc_verify.cli.main`` of the checkout being
documented, so the page cannot drift from the parser.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from pathlib import Path

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
    os.environ["COLUMNS"] = "100"  # argparse wraps help text to the terminal width
    return config


def on_page_markdown(markdown, page, config, files, **kwargs):
    def replace(match):
        args = match.group("args").split()
        command = " ".join(["nc-verify", *args, "--help"])
        return f"```text\n$ {command}\n{_help_text(args)}\n```"

    return MARKER.sub(replace, markdown)
