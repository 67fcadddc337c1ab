"""JSON of the package: numpy values, strict numbers, and output files proved writable before the work.

One rule for every JSON the package writes (``--json`` files, sweep records, point
metadata): strict JSON (RFC 8259), which has no token for NaN or the infinities.  A
non-finite number becomes ``null`` and the key ``<name>_note`` beside it says what it
was (``"margin": null, "margin_note": "inf: not a finite number"``); in a list, the
non-finite entries become ``null`` and ``<name>_note`` lists their positions.
:func:`dumps` applies the rule and encodes with ``allow_nan=False``, so a bare ``NaN``
token can never be written.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

#: Suffix of the key that explains a ``null`` written for a non-finite number.
NOTE_SUFFIX = "_note"


def json_default(obj):
    """``default=`` hook for :func:`json.dumps`: numpy arrays to lists, numpy scalars to Python."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _plain(x):
    if isinstance(x, (np.ndarray, np.floating, np.integer, np.bool_)):
        return json_default(x)
    return x


def _nonfinite(x) -> bool:
    return isinstance(x, float) and not math.isfinite(x)


def _word(x: float) -> str:
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def strict(obj):
    """``obj`` with every non-finite float replaced by ``None`` and a note beside it (module docstring).

    Dicts get a ``<key>_note`` entry per replaced value (a float: ``"inf: not a finite
    number"``; a list: ``"non-finite entries as null: nan at [0, 3]"``, nested lists by
    their top-level position).  A non-finite value that is not in a dict (a bare list
    entry) becomes ``None``; its note goes to the enclosing dict's key.  Numpy values are
    converted (:func:`json_default`).
    """
    obj = _plain(obj)
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            v = _plain(v)
            out[k] = strict(v)
            note = _note(v)
            if note is not None and f"{k}{NOTE_SUFFIX}" not in obj:
                out[f"{k}{NOTE_SUFFIX}"] = note
        return out
    if isinstance(obj, (list, tuple)):
        return [strict(v) for v in obj]
    if _nonfinite(obj):
        return None
    return obj


def _note(v):
    """Why ``strict(v)`` holds a ``null`` where ``v`` had a number, or None when it holds none."""
    if _nonfinite(v):
        return f"{_word(v)}: not a finite number"
    if isinstance(v, (list, tuple)):
        bad = {}
        for i, x in enumerate(v):
            word = _first_nonfinite(x)
            if word is not None:
                bad.setdefault(word, []).append(i)
        if bad:
            return "non-finite entries as null: " + "; ".join(f"{w} at {idx}" for w, idx in bad.items())
    return None


def _first_nonfinite(x):
    """"nan", "inf" or "-inf" for the first non-finite number in ``x`` (nested lists too), else None."""
    x = _plain(x)
    if _nonfinite(x):
        return _word(x)
    if isinstance(x, (list, tuple)):
        return next((w for w in map(_first_nonfinite, x) if w is not None), None)
    return None


def dumps(obj, **kwargs) -> str:
    """Strict JSON text of ``obj`` (:func:`strict`, then ``json.dumps(..., allow_nan=False)``)."""
    return json.dumps(strict(obj), allow_nan=False, default=json_default, **kwargs)


def writable_file(path, *, append: bool = False) -> str:
    """Prove that ``path`` can be written by opening it, before any work; return the absolute path.

    The file is opened for appending (an existing file, which the user may be
    resuming, is never truncated); a file this check created is removed again, so no
    empty file is left behind when the run fails later.  Parent folders are created.
    ``os.access`` is not enough: as root it says yes for ``/proc`` and ``/sys``.

    Parameters
    ----------
    path : str or path-like
    append : bool
        Only for the message: the file will be appended to, not replaced.

    Raises
    ------
    ValueError
        Naming the path and the reason (a folder, a parent that cannot be created, a
        file that cannot be opened for writing).
    """
    text = os.fspath(path)
    full = os.path.abspath(os.path.expanduser(text))
    if os.path.isdir(full):
        raise ValueError(f"output {text!r} is a folder, not a file")
    parent = os.path.dirname(full)
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the folder {parent!r} for output {text!r}: {exc.strerror or exc}") from None
    existed = os.path.lexists(full)
    try:
        with open(full, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise ValueError(f"output {text!r} cannot be written: {exc.strerror or exc}") from None
    if not existed:
        try:
            os.remove(full)
        except OSError:
            pass
    return full


def writable_folder(path) -> str:
    """Create ``path`` (with its parents) and prove a file can be created in it; return ``path``.

    Raises
    ------
    ValueError
        Naming the folder and the reason.
    """
    import tempfile

    text = os.fspath(path)
    try:
        os.makedirs(text, exist_ok=True)
        with tempfile.TemporaryFile(dir=text):
            pass
    except OSError as exc:
        raise ValueError(f"output folder {text!r} cannot be written: {exc.strerror or exc}") from None
    return text
