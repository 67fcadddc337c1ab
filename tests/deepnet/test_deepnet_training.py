"""ResNets, heads, training loop and per-epoch metrics of the torch extra (CPU, synthetic data)."""

import copy
import csv

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason='the deep-network tests need the torch extra: pip install "nc-verify[torch]"')

from nc_verify.cli import main  # noqa: E402
from nc_verify.deepnet import (  # noqa: E402
    TrainConfig,
    build_model,
    evaluate,
    figure4,
    figure6,
    regularized_loss,
    resnet18,
    resnet50,
    select_device,
    synthetic_images,
    train,
)

EPS32 = float(np.finfo(np.float32).eps)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # Tiny convolutions gain nothing from threads; one thread keeps runs steady on a shared machine.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _logsumexp(Z):
    m = Z.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(Z - m).sum(axis=1, keepdims=True)))[:, 0]


class TestArchitecture:
    @pytest.mark.parametrize("arch,width,dim", [("resnet18", 2, 16), ("resnet18", 5, 40), ("resnet50", 2, 64)])
    @pytest.mark.parametrize("size", [8, 16])
    def test_shapes_and_feature_dimension(self, arch, width, dim, size):
        torch.manual_seed(0)
        m = build_model(arch, width, 7, head="regularized")
        logits, h = m(torch.zeros(3, 3, size, size).normal_())
        assert m.feature_dim == dim and h.shape == (3, dim) and logits.shape == (3, 7)

    def test_standard_widths(self):
        assert resnet18(64, 10).feature_dim == 512
        assert resnet50(64, 100).feature_dim == 2048
        # ResNet-18's parameter count (CIFAR variant, no classifier bias): 11.17 M
        n = sum(p.numel() for p in resnet18(64, 10).parameters())
        assert n == 11_168_832 + 5120

    @pytest.mark.parametrize("tau", [0.5, 1.0, 8.0])
    def test_normalized_features_have_norm_tau(self, tau):
        torch.manual_seed(0)
        m = resnet18(4, 5, head="normalized", tau=tau)
        _, h = m(torch.randn(6, 3, 8, 8))
        norms = torch.linalg.vector_norm(h.detach().double(), dim=1).numpy()
        # float32 norm of d = 32 terms then a division: relative error <= d eps32
        np.testing.assert_allclose(norms, tau, rtol=m.feature_dim * EPS32)
        rows = torch.linalg.vector_norm(m.classifier.weight.detach().double(), dim=1).numpy()
        np.testing.assert_allclose(rows, 1.0, atol=EPS32)

    def test_regularized_features_are_raw(self):
        torch.manual_seed(0)
        m = resnet18(4, 5, head="regularized")
        _, h = m(torch.randn(6, 3, 8, 8))
        assert np.ptp(torch.linalg.vector_norm(h, dim=1).detach().numpy()) > 1e-3

    def test_classifier_matrix_is_paper_W(self):
        m = resnet18(2, 3)
        W = m.classifier_matrix()
        assert W.shape == (16, 3) and W.dtype == np.float64
        np.testing.assert_array_equal(W, m.classifier.weight.detach().double().numpy().T)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="unknown head 'cosine'"):
            resnet18(2, 3, head="cosine")
        with pytest.raises(ValueError, match="unknown arch 'resnet34'"):
            build_model("resnet34", 2, 3)
        with pytest.raises(ValueError, match="tau must be finite and > 0"):
            resnet18(2, 3, tau=0.0)
        with pytest.raises(ValueError, match="num_classes must be >= 2"):
            resnet18(2, 1)
        with pytest.raises(TypeError, match="width must be an integer"):
            resnet18(2.5, 3)


class TestRegularizedLoss:
    def test_matches_hand_computation(self):
        """CE (batch mean) + wd ||W||_F^2 / 2 + wd sum_i ||h_i||^2 / 2, in float64 to rounding."""
        rng = np.random.default_rng(0)
        B, d, K, wd = 9, 6, 4, 3e-2
        Z, H, W = rng.standard_normal((B, K)), rng.standard_normal((B, d)), rng.standard_normal((K, d))
        y = rng.integers(0, K, B)
        ce = np.mean(_logsumexp(Z) - Z[np.arange(B), y])
        hand = ce + wd * np.sum(W**2) / 2 + wd * np.sum(H**2) / 2
        got = regularized_loss(*(torch.from_numpy(a) for a in (Z, y, H, W)), wd).item()
        assert abs(got - hand) <= 1e-14 * abs(hand)
        # and it is not plain cross-entropy: the penalties are far above rounding
        assert abs(got - ce) > 1e-3

    def test_training_objective_includes_penalties(self):
        """One full-batch step: the recorded objective is the hand-computed penalised loss at the start."""
        ds = synthetic_images(3, 8, size=8, seed=1)
        torch.manual_seed(0)
        m = resnet18(3, 3, head="regularized")
        start = copy.deepcopy(m).train()
        cfg = TrainConfig(epochs=1, batch_size=ds.size, weight_decay=0.05)
        run = train(m, ds, cfg, device="cpu", progress=False)
        with torch.no_grad():  # the same batch in training mode (batch statistics; order does not matter)
            z, h = start(torch.from_numpy(ds.images))
        Z, H = z.double().numpy(), h.double().numpy()
        W = start.classifier.weight.detach().double().numpy()
        ce = np.mean(_logsumexp(Z) - Z[np.arange(ds.size), ds.labels])
        hand = ce + 0.05 * (np.sum(W**2) + np.sum(H**2)) / 2
        # float32 forward over a reordered batch (batch-norm sums in another order): ~1e-6 relative
        assert abs(run.records[1].objective - hand) <= 1e-5 * hand
        assert hand - ce > 1e-2  # the penalties are resolvable at that tolerance


class TestTraining:
    @pytest.mark.slow
    def test_normalized_resnet18_memorises_random_labels_and_collapses(self):
        """Width-16 ResNet-18, normalised head: 200 noise images, 10 random classes, 100% and NC1 down 100x."""
        ds = synthetic_images(10, 20, size=8, seed=0)
        torch.manual_seed(0)
        m = resnet18(16, 10, head="normalized", tau=4.0)
        cfg = TrainConfig(epochs=24, batch_size=32, lr_decay_period=16)
        run = train(m, ds, cfg, device="cpu", progress=False)
        assert run.records[0].accuracy < 0.3  # chance is 0.1
        assert run.final.accuracy == 1.0
        assert run.final.nc1 < run.records[0].nc1 / 100
        assert run.final.loss < run.records[0].loss / 4
        # classifier rows unit-norm after the last step: the float64 retraction rounds each
        # entry once to float32 (relative 2^-24), so | ||w_k|| - 1 | <= 2^-24 + float64 rounding;
        # 1e-6 leaves a 16x margin while one unretracted SGD step moves norms by ~lr = 5e-2.
        rows = torch.linalg.vector_norm(m.classifier.weight.detach().double(), dim=1).numpy()
        assert np.max(np.abs(rows - 1)) <= 1e-6
        assert [r.epoch for r in run.records] == list(range(25))
        assert run.records[17].lr == pytest.approx(0.005, rel=1e-12)

    def test_rows_stay_unit_norm_only_with_retraction(self):
        ds = synthetic_images(4, 6, size=8, seed=2)
        norms = {}
        for head in ("normalized", "regularized"):
            torch.manual_seed(0)
            m = resnet18(2, 4, head=head)
            if head == "regularized":
                m.retract_classifier()  # same start on the sphere
            train(m, ds, TrainConfig(epochs=3, batch_size=8), device="cpu", progress=False)
            norms[head] = torch.linalg.vector_norm(m.classifier.weight.detach().double(), dim=1).numpy()
        assert np.max(np.abs(norms["normalized"] - 1)) <= 1e-6  # see the tolerance argument above
        assert np.max(np.abs(norms["regularized"] - 1)) > 1e-4

    def test_metrics_agree_with_independent_computation(self):
        """Recorded NC1-NC3 = the authors' formulas (in torch, float64) on float64-network features."""
        ds = synthetic_images(4, 10, size=8, seed=0)
        torch.manual_seed(0)
        m = resnet18(4, 4, head="normalized", tau=2.0)
        run = train(m, ds, TrainConfig(epochs=3, batch_size=16), device="cpu", progress=False)
        ev = evaluate(m, ds, batch_size=7)  # another batching of the same pass
        assert (ev.nc1, ev.nc2, ev.nc3, ev.accuracy) == (run.final.nc1, run.final.nc2, run.final.nc3, run.final.accuracy)
        m64 = copy.deepcopy(m).double().eval()
        with torch.no_grad():
            z, h = m64(torch.from_numpy(ds.images).double())
        # float32 network through ~20 layers vs float64: measured 3e-7 relative
        assert np.max(np.abs(ev.features - h.numpy().T)) <= 1e-5 * np.max(np.abs(h.numpy()))
        np.testing.assert_allclose(ev.logits, z.numpy().T, atol=1e-5 * z.abs().max().item())
        # the authors' NC formulas, written independently on the float64 features
        H, y, K = h.T, torch.from_numpy(ds.labels), 4
        W = m64.classifier.weight.T
        means = torch.stack([H[:, y == k].mean(dim=1) for k in range(K)], dim=1)
        Sw = (H - means[:, y]) @ (H - means[:, y]).T / H.shape[1]
        C = means - H.mean(dim=1, keepdim=True)
        Sb = C @ C.T / K
        nc1 = torch.trace(Sw @ torch.linalg.pinv(Sb, hermitian=True)).item() / K
        target = (torch.eye(K, dtype=torch.float64) - 1 / K) / (K - 1) ** 0.5
        nc2 = torch.linalg.norm(W.T @ W / torch.linalg.norm(W.T @ W) - target).item()
        nc3 = torch.linalg.norm(W.T @ means / torch.linalg.norm(W.T @ means) - target).item()
        # features agree to 1e-6 relative; NC1 (a pinv of the rank-3 Sigma_B) can amplify that
        # by the condition of Sigma_B restricted to its range (here < 1e2)
        np.testing.assert_allclose([ev.nc1, ev.nc2, ev.nc3], [nc1, nc2, nc3], rtol=1e-4)
        acc = (z.argmax(dim=1) == y).double().mean().item()
        assert ev.accuracy == acc

    def test_record_every(self):
        ds = synthetic_images(3, 4, size=8, seed=0)
        torch.manual_seed(0)
        run = train(resnet18(2, 3), ds, TrainConfig(epochs=7, record_every=3, batch_size=5), device="cpu", progress=False)
        assert [r.epoch for r in run.records] == [0, 3, 6, 7]
        assert np.isnan(run.records[0].objective) and np.isnan(run.records[0].lr)

    def test_batch_of_one_joins_previous(self):
        ds = synthetic_images(3, 3, size=8, seed=0)  # 9 images, batches of 4: 4, 5
        torch.manual_seed(0)
        run = train(resnet18(2, 3), ds, TrainConfig(epochs=1, batch_size=4), device="cpu", progress=False)
        assert np.isfinite(run.final.objective)

    def test_bad_inputs(self):
        ds = synthetic_images(3, 2, size=8, seed=0)
        with pytest.raises(ValueError, match="data has 3 classes but the model's head has 4"):
            train(resnet18(2, 4), ds, TrainConfig(epochs=1), device="cpu")
        with pytest.raises(TypeError, match="config must be a TrainConfig"):
            train(resnet18(2, 3), ds, {"epochs": 1}, device="cpu")
        with pytest.raises(ValueError, match="momentum must be in"):
            TrainConfig(momentum=1.0)
        with pytest.raises(ValueError, match="unknown device 'gpu0'"):
            select_device("gpu0")
        if not torch.cuda.is_available():
            with pytest.raises(ValueError, match="CUDA is not available"):
                select_device("cuda")
        assert select_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")


class TestFigures:
    def test_figure4_and_figure6_write_their_files(self, tmp_path):
        ds = synthetic_images(3, 4, size=8, seed=0)
        cfg = TrainConfig(epochs=2, batch_size=6)
        r4 = figure4(ds, widths=[2, 3], config=cfg, device="cpu", out=tmp_path)
        r6 = figure6(ds, archs=["resnet18"], width=2, config=cfg, device="cpu", out=tmp_path)
        assert [r.label for r in r4.runs] == ["resnet18-k2", "resnet18-k3"]
        assert [r.head for r in r6.runs] == ["normalized", "regularized"]
        for res in (r4, r6):
            with open(res.files["csv"], newline="") as fh:
                rows = list(csv.DictReader(fh))
            assert len(rows) == 3 * len(res.runs)
            for row, (run, rec) in zip(rows, [(r, x) for r in res.runs for x in r.records], strict=True):
                assert row["run"] == run.label and int(row["epoch"]) == rec.epoch
                assert float(row["nc1"]) == rec.nc1 and float(row["accuracy"]) == rec.accuracy
            with open(res.files["png"], "rb") as fh:
                assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
            assert res.files["summary"].endswith("_summary.txt")
        # Figure 4 trains on shuffled labels; Figure 6 on the labels given
        assert r4.runs[0].dataset == "synthetic-random-labels" and r6.runs[0].dataset == "synthetic"

    def test_cli(self, tmp_path, capsys):
        rc = main(["deepnet", "figure6", "--dataset", "synthetic", "--image-size", "8", "--per-class", "2",
                   "--archs", "resnet18", "--width", "2", "--epochs", "1", "--device", "cpu", "--out", str(tmp_path),
                   "--wide"])
        assert rc == 0
        out = capsys.readouterr().out
        assert "resnet18-normalized" in out and "resnet18-regularized" in out
        assert sorted(p.name for p in tmp_path.iterdir()) == ["figure6.csv", "figure6.json", "figure6.png", "figure6_summary.txt"]

    def test_cli_missing_cifar(self, tmp_path, capsys):
        rc = main(["deepnet", "figure4", "--data", str(tmp_path), "--out", str(tmp_path / "o")])
        assert rc == 2
        assert "expected the files data_batch_1" in capsys.readouterr().err
