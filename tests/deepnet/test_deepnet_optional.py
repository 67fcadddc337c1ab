"""The torch extra stays optional: clear errors without torch, no torch or pymanopt where not needed."""

import pathlib
import re
import subprocess
import sys

import pytest

import nc_verify
from nc_verify.cli import main

TORCH_MODULES = ("nc_verify.deepnet.models", "nc_verify.deepnet.training", "nc_verify.deepnet.figures")
HINT = re.escape('pip install "nc-verify[torch]"')


@pytest.fixture
def no_torch(monkeypatch):
    """Make ``import torch`` fail as on a machine without it (a None entry blocks the import)."""
    monkeypatch.setitem(sys.modules, "torch", None)
    for name in TORCH_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_entry_points_name_the_install_command(no_torch):
    import nc_verify.deepnet as deepnet

    for name in ("resnet18", "train", "figure4", "regularized_loss"):
        with pytest.raises(ImportError, match=HINT + ".*CPU build"):
            getattr(deepnet, name)
    with pytest.raises(ImportError, match=HINT):
        import nc_verify.deepnet.models  # noqa: F401


def test_torch_free_parts_work_without_torch(no_torch):
    import nc_verify.deepnet as deepnet

    ds = deepnet.synthetic_images(2, 3, size=4, seed=0)
    assert ds.size == 6
    assert deepnet.TrainConfig().lr == 0.05
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        deepnet.nonsense  # noqa: B018


def test_cli_without_torch_exits_cleanly(no_torch, tmp_path, capsys):
    rc = main(["deepnet", "figure4", "--dataset", "synthetic", "--out", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert re.search("nc-verify deepnet: error: .*needs PyTorch.*" + HINT, err)
    assert not any(tmp_path.iterdir())


def test_no_other_module_imports_torch():
    root = pathlib.Path(nc_verify.__file__).parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "deepnet" not in p.parts and re.search(r"^\s*(import|from)\s+torch\b", p.read_text(), re.M)
    ]
    assert offenders == []


def _run(code: str) -> subprocess.CompletedProcess:
    root = pathlib.Path(nc_verify.__file__).parent.parent
    return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)


def test_core_imports_neither_torch_nor_needs_it():
    """``import nc_verify``, its CLI and ``nc_verify.deepnet`` itself do not load torch."""
    res = _run(
        "import sys; import nc_verify, nc_verify.cli, nc_verify.deepnet; "
        "assert 'torch' not in sys.modules, 'torch imported'; print('ok')"
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_extra_works_without_pymanopt_and_autograd():
    """The GPU machines have torch but neither pymanopt nor autograd: the extra must not need them."""
    pytest.importorskip("torch", reason="needs the torch extra")
    res = _run(
        "import sys; sys.modules['pymanopt'] = None; sys.modules['autograd'] = None\n"
        "import torch; torch.set_num_threads(1)\n"
        "from nc_verify.deepnet import evaluate, resnet18, synthetic_images\n"
        "ds = synthetic_images(3, 2, size=8, seed=0); torch.manual_seed(0)\n"
        "ev = evaluate(resnet18(2, 3), ds, device='cpu'); print(ev.features.shape)"
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "(16, 6)"
