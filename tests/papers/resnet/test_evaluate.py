"""ClassificationEvaluator against numpy on a small linear classifier; multi-crop averaging."""
import numpy as np
import paddle
import pytest
from paddle.io import Dataset

from ppcls_repro.engine.setup import build_loader
from ppcls_repro.metrics.classification import cross_entropy, topk_accuracy
from ppcls_repro.papers.resnet.evaluate import ClassificationEvaluator


class Features(Dataset):
    def __init__(self, inputs: np.ndarray, labels: np.ndarray) -> None:
        self.inputs, self.labels = inputs.astype(np.float32), labels.astype(np.int64)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        return {"input": self.inputs[i], "target": self.labels[i]}


class Linear(paddle.nn.Layer):
    def __init__(self) -> None:
        super().__init__()
        self.fc = paddle.nn.Linear(4, 6)

    def forward(self, x):
        return self.fc(x.reshape([x.shape[0], -1]))


def loader(data: Dataset, batch_size: int = 3):
    part = {"sampler": {"batch_size": batch_size, "shuffle": False, "drop_last": False},
            "loader": {"num_workers": 0, "use_shared_memory": False}}
    return build_loader(data, part, seed=0)


def test_metrics_and_per_class_rows_match_numpy():
    rng = np.random.default_rng(0)
    paddle.seed(0)
    inputs, labels = rng.normal(size=(11, 1, 2, 2)), rng.integers(0, 6, size=11)
    model = Linear()
    model.train()
    result = ClassificationEvaluator(topk=(1, 3))(model, loader(Features(inputs, labels)))
    assert model.training  # left as it was
    logits = model(paddle.to_tensor(inputs.astype(np.float32))).numpy()
    assert result.metrics["top1"] == pytest.approx(topk_accuracy(logits, labels, 1))
    assert result.metrics["top3"] == pytest.approx(topk_accuracy(logits, labels, 3))
    assert result.metrics["loss"] == pytest.approx(cross_entropy(logits, labels).mean(), rel=1e-5)
    assert sum(row["samples"] for row in result.per_item) == 11
    row = next(r for r in result.per_item if r["name"] == str(labels[0]))
    mask = labels == labels[0]
    assert row["top1"] == pytest.approx(topk_accuracy(logits[mask], labels[mask], 1))


def test_multi_crop_inputs_average_the_crops_probabilities():
    rng = np.random.default_rng(1)
    paddle.seed(1)
    crops, labels = rng.normal(size=(5, 3, 1, 2, 2)), rng.integers(0, 6, size=5)
    model = Linear()
    result = ClassificationEvaluator(topk=(1,))(model, loader(Features(crops, labels), batch_size=2))
    logits = model(paddle.to_tensor(crops.reshape(15, 1, 2, 2).astype(np.float32))).numpy().reshape(5, 3, 6)
    probs = np.exp(logits) / np.exp(logits).sum(axis=2, keepdims=True)
    mean = probs.mean(axis=1)
    assert result.metrics["top1"] == pytest.approx(topk_accuracy(mean, labels, 1))
    assert result.metrics["loss"] == pytest.approx(-np.log(mean[np.arange(5), labels]).mean(), rel=1e-5)


def test_bad_topk_is_refused():
    with pytest.raises(ValueError, match="topk"):
        ClassificationEvaluator(topk=(0,))
