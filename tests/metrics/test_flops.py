"""Multiply-add counting with forward hooks, against hand counts on small layers."""
import paddle.nn as nn
import paddle.nn.functional as F

from ppcls_repro.metrics.flops import count_macs


class Tiny(nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2D(3, 8, 3, stride=2, padding=1)           # 8x8 -> 4x4
        self.group = nn.Conv2D(8, 8, 3, padding=1, groups=4)          # grouped, 4x4
        self.bn = nn.BatchNorm2D(8)
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        x = F.relu(self.bn(self.group(self.conv(x))))
        return self.fc(self.fc(x.mean(axis=[2, 3])))  # the same fc called twice


def test_conv_grouped_conv_and_fc_by_hand():
    report = count_macs(Tiny(), (3, 8, 8))
    conv = 4 * 4 * 8 * (3 * 3 * 3)        # output elements x (in / groups) x k x k
    group = 4 * 4 * 8 * (2 * 3 * 3)       # in / groups = 8 / 4 = 2
    fc = 2 * 8 * 8                        # two calls
    assert report.per_layer == {"conv": conv, "group": group, "fc": fc}
    assert report.by_type == {"conv": conv + group, "fc": fc}
    assert report.total == conv + group + fc


def test_counting_leaves_the_model_as_it_was():
    model = Tiny()
    model.train()
    count_macs(model, (3, 8, 8))
    assert model.training
    assert not model.conv._forward_post_hooks
