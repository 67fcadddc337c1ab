"""A temperature range in pieces: each piece a checked proof, the union re-assembled exactly."""

import json
from fractions import Fraction

import pytest

from nc_verify.certify.prover import check_tau_pieces, prove_landscape, prove_tau_pieces
from nc_verify.cli import main


@pytest.fixture(scope="module")
def pieces(tmp_path_factory):
    out = tmp_path_factory.mktemp("pieces")
    proofs = prove_tau_pieces(2, 1, ["0.5", "1", "1.9"], out_dir=out)
    return out, proofs


def test_pieces_prove_and_assemble(pieces):
    out, proofs = pieces
    assert [p.tau_exact for p in proofs] == [["1/2", "1"], ["1", "19/10"]]
    assert all(p.status == "proved" for p in proofs)
    files = sorted(out.glob("piece_*.json"))
    assert len(files) == 2
    r = check_tau_pieces(list(reversed(files)))            # any order
    assert r.valid and r.status == "proved" and r.tau_exact == (Fraction(1, 2), Fraction(19, 10))
    assert "every tau in [0.5, 1.9]" in r.message


def test_a_gap_between_pieces_is_rejected(pieces, tmp_path):
    """[0.5, 1] and [1.1, 1.9] leave (1, 1.1) uncovered: two valid proofs, no proof of the union."""
    _, proofs = pieces
    other = prove_landscape(2, 1, ("1.1", "1.9"))
    r = check_tau_pieces([proofs[0], other])
    assert not r.valid and r.status == "invalid" and "gap" in r.message and "(1, 1.1)" in r.message
    # the ends must meet as rationals: a piece ending at the float below 1 would leave a gap too
    below = prove_landscape(2, 1, (0.5, float.fromhex("0x1.fffffffffffffp-1")))
    r = check_tau_pieces([below, proofs[1]])
    assert not r.valid and "gap" in r.message


def test_pieces_of_different_problems_are_rejected(pieces):
    _, proofs = pieces
    other = prove_landscape(2, 1, ("1", "1.9"), d=2, max_boxes=50)
    r = check_tau_pieces([proofs[0], other])
    assert not r.valid and "different problems" in r.message


def _corrupted_piece(out, tmp_path):
    """Piece 1 with one ``saddle_normal`` certificate zeroed (the normal-block form is then 0, not < 0)."""
    js = json.loads((out / "piece_01.json").read_text())
    leaf = next(l for l in js["leaves"] if l["test"] == "saddle_normal")
    leaf["data"]["c"], leaf["data"]["e"] = [0.0, 0.0], [0.0, 0.0]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(js))
    return bad


def test_an_invalid_piece_is_named(pieces, tmp_path):
    out, _ = pieces
    bad = _corrupted_piece(out, tmp_path)
    r = check_tau_pieces([out / "piece_00.json", bad])
    assert not r.valid and "piece 1" in r.message


def test_unfinished_piece_gives_not_proved(pieces):
    _, proofs = pieces
    short = prove_landscape(2, 1, ("1", "1.9"), max_boxes=20)
    r = check_tau_pieces([proofs[0], short])
    assert r.valid and r.status == "not_proved" and "piece 1" in r.message


@pytest.mark.parametrize("bp,word", [(["1"], "at least two"), (["1", "1"], "increase"), (["2", "1"], "increase"),
                                     (["1", "400"], "350"), ("1 2", "list")])
def test_bad_breakpoints(bp, word):
    with pytest.raises(ValueError, match=word):
        prove_tau_pieces(2, 1, bp)


def test_cli_checks_and_assembles_pieces(pieces, capsys):
    out, _ = pieces
    files = [str(f) for f in sorted(out.glob("piece_*.json"))]
    assert main(["prove", "--check", *files]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "together they prove every tau in [0.5, 1.9]" in text and "verdict: pass" in text


def test_parallel_check_gives_the_serial_verdict(pieces):
    """workers=2 re-checks the pieces in two processes: the same verdict, messages, leaves checked
    and order of pieces as the serial check (given in reverse order: results stay in input order)."""
    out, _ = pieces
    files = list(reversed(sorted(out.glob("piece_*.json"))))
    serial = check_tau_pieces(files)
    par = check_tau_pieces(files, workers=2)
    assert (par.valid, par.status, par.tau_exact, par.message) == (serial.valid, serial.status, serial.tau_exact,
                                                                    serial.message)
    assert [(c.status, c.checked, c.message) for c in par.pieces] == [(c.status, c.checked, c.message)
                                                                      for c in serial.pieces]


def test_parallel_check_rejects_a_corrupted_piece(pieces, tmp_path):
    """The corrupted piece of test_an_invalid_piece_is_named, checked in a worker process, is
    named and rejected as in the serial path."""
    out, _ = pieces
    bad = _corrupted_piece(out, tmp_path)
    r = check_tau_pieces([out / "piece_00.json", bad], workers=2)
    assert not r.valid and r.status == "invalid" and "piece 1" in r.message
    assert r.pieces[0].status == "proved" and r.pieces[1].status == "invalid"


@pytest.mark.parametrize("workers", [0, -1, True, 1.5, "2"])
def test_bad_workers(pieces, workers):
    out, _ = pieces
    with pytest.raises(ValueError, match="workers"):
        check_tau_pieces(sorted(out.glob("piece_*.json")), workers=workers)


def test_cli_checks_pieces_in_parallel(pieces, capsys):
    out, _ = pieces
    files = [str(f) for f in sorted(out.glob("piece_*.json"))]
    assert main(["prove", "--check", *files, "--workers", "2"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "together they prove every tau in [0.5, 1.9]" in text and "verdict: pass" in text
