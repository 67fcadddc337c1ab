"""CIFAR-style ResNet-18 (variable width) and ResNet-50 with a normalised or a regularised head.

The backbone follows the usual CIFAR adaptation of He et al. (2016), as in the
paper's experiments: a 3x3 stem convolution with stride 1 and no max-pool, four
stages of widths ``k, 2k, 4k, 8k`` (strides 1, 2, 2, 2), global average pooling.
ResNet-18 (basic blocks ``[2, 2, 2, 2]``) has feature dimension ``d = 8k``;
ResNet-50 (bottleneck blocks ``[3, 4, 6, 3]``, expansion 4) has ``d = 32k``. The
standard networks are width ``k = 64`` (d = 512 and 2048). Global average pooling
makes any input size work (32x32 for CIFAR; 8x8 or 16x16 keeps CPU tests quick).

Heads (the last layer, ``logits = W^T h`` with ``W`` of shape (d, K), no bias):

* normalised -- features ``tau * h / ||h||`` and classifier columns of ``W``
  (rows of the linear layer) retracted to unit norm after every optimiser step:
  the network's last layer is then a point of problem (4);
* regularised -- raw features ``h``; the training loss adds weight decay on ``W``
  and on the features (:func:`nc_verify.deepnet.training.regularized_loss`).
"""

from __future__ import annotations

from nc_verify.deepnet._imports import require_torch

torch = require_torch()
nn = torch.nn
F = torch.nn.functional

from nc_verify.utils.validation import check_choice, check_int, check_positive_float  # noqa: E402

HEADS = ("normalized", "regularized")
ARCHITECTURES = ("resnet18", "resnet50")


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and an identity (or 1x1) shortcut."""

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = _shortcut(in_planes, planes * self.expansion, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 - 3x3 - 1x1 convolutions (expansion 4) with batch norm and a shortcut."""

    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.shortcut = _shortcut(in_planes, planes * self.expansion, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


def _shortcut(in_planes: int, out_planes: int, stride: int):
    if stride == 1 and in_planes == out_planes:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False), nn.BatchNorm2d(out_planes))


class ResNet(nn.Module):
    """CIFAR-style ResNet returning ``(logits, features)``.

    Parameters
    ----------
    block : BasicBlock or Bottleneck
    num_blocks : sequence of 4 int
    width : int
        k, the number of channels after the stem; stages have k, 2k, 4k, 8k.
    num_classes : int
        K >= 2.
    head : {"normalized", "regularized"}
    tau : float
        Temperature of the normalised head (ignored by the regularised head).
    in_channels : int
        Image channels (3).

    Attributes
    ----------
    feature_dim : int
        d = 8 k ``block.expansion``.
    classifier : torch.nn.Linear
        ``K x d`` weight, no bias; its transpose is the paper's ``W`` (d, K).
    """

    def __init__(self, block, num_blocks, width: int, num_classes: int, *, head: str = "normalized", tau: float = 1.0, in_channels: int = 3):
        super().__init__()
        width = check_int(width, "width", 1)
        num_classes = check_int(num_classes, "num_classes", 2)
        self.head = check_choice(head, "head", HEADS)
        self.tau = check_positive_float(tau, "tau")
        in_channels = check_int(in_channels, "in_channels", 1)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        )
        planes = width
        stages = []
        for i, n_blocks in enumerate(num_blocks):
            out = width * 2**i
            strides = [1 if i == 0 else 2] + [1] * (n_blocks - 1)
            layers = []
            for s in strides:
                layers.append(block(planes, out, s))
                planes = out * block.expansion
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.feature_dim = planes
        self.num_classes = num_classes
        self.classifier = nn.Linear(planes, num_classes, bias=False)
        if self.normalized:
            self.retract_classifier()

    @property
    def normalized(self) -> bool:
        """True for the normalised head."""
        return self.head == "normalized"

    def features(self, x):
        """Last-layer features, shape (B, d): ``tau h / ||h||`` for the normalised head, ``h`` otherwise."""
        h = self.stages(self.stem(x)).mean(dim=(2, 3))
        if self.normalized:
            return self.tau * F.normalize(h, dim=1)
        return h

    def forward(self, x):
        """``(logits (B, K), features (B, d))`` of a batch ``x`` of shape (B, C, S, S)."""
        h = self.features(x)
        return self.classifier(h), h

    @torch.no_grad()
    def retract_classifier(self) -> None:
        """Rescale every classifier row (column of ``W``) to unit norm: the oblique retraction.

        The division is done in float64 and rounded once, so each row's norm is 1
        to within about one unit in the last place of the parameter dtype.
        """
        w = self.classifier.weight
        w64 = w.double()
        w.copy_(w64 / torch.linalg.vector_norm(w64, dim=1, keepdim=True))

    def classifier_matrix(self):
        """The paper's ``W``: the classifier as a float64 numpy array of shape (d, K)."""
        return self.classifier.weight.detach().to("cpu", torch.float64).numpy().T.copy()


def resnet18(width: int = 64, num_classes: int = 10, **kwargs) -> ResNet:
    """ResNet-18 of width ``k`` (feature dimension 8k); keyword arguments as :class:`ResNet`."""
    return ResNet(BasicBlock, (2, 2, 2, 2), width, num_classes, **kwargs)


def resnet50(width: int = 64, num_classes: int = 100, **kwargs) -> ResNet:
    """ResNet-50 of width ``k`` (feature dimension 32k); keyword arguments as :class:`ResNet`."""
    return ResNet(Bottleneck, (3, 4, 6, 3), width, num_classes, **kwargs)


def build_model(arch: str, width: int, num_classes: int, **kwargs) -> ResNet:
    """``resnet18`` or ``resnet50`` by name."""
    arch = check_choice(arch, "arch", ARCHITECTURES)
    return (resnet18 if arch == "resnet18" else resnet50)(width, num_classes, **kwargs)
