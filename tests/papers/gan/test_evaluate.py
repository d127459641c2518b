"""ParzenEvaluator on MNISTValTest: the generator's score, and the real-digit reference (part 2)."""
import numpy as np
import paddle
import pytest

from ppcls_repro.data.mnist import load_mnist, write_idx
from ppcls_repro.papers.gan import evaluate as parzen_evaluate
from ppcls_repro.papers.gan.data import MNISTValTest
from ppcls_repro.papers.gan.evaluate import ParzenEvaluator, sample_images
from ppcls_repro.papers.gan.model import Generator
from ppcls_repro.papers.gan.parzen import PAPER_SIGMAS, parzen_log_likelihood
from ppcls_repro.utils.errors import DataError


@pytest.fixture
def mnist_dir(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte", (rng.random((20, 28, 28)) * 255).astype(np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(20) % 10)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", (rng.random((6, 28, 28)) * 255).astype(np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(6))
    return tmp_path


def batches(dataset, size=7):
    """The Eval loader's batches: dicts of stacked arrays."""
    items = [dataset[i] for i in range(len(dataset))]
    return [{key: np.stack([item[key] for item in items[i:i + size]]) for key in items[0]}
            for i in range(0, len(items), size)]


def generator(seed):
    paddle.seed(seed)
    return Generator(noise_dim=4, hidden=(8,), image_shape=(1, 28, 28))


def test_parts_are_validation_test_and_the_first_training_images(mnist_dir):
    data = MNISTValTest(str(mnist_dir), val_size=5, num_reference=4)
    train, _ = load_mnist(mnist_dir, "train")
    test, _ = load_mnist(mnist_dir, "test")
    assert np.bincount(data.parts).tolist() == [5, 6, 4]
    assert np.array_equal(data.images[data.parts == 0], train[15:])  # validation: the last 5 training rows
    assert np.array_equal(data.images[data.parts == 1], test)
    assert np.array_equal(data.images[data.parts == 2], train[:4])


def test_num_reference_beyond_the_training_images_is_an_error(mnist_dir):
    with pytest.raises(DataError, match=r"MNISTValTest: num_reference must be in \[0, 15\]"):
        MNISTValTest(str(mnist_dir), val_size=5, num_reference=16)


def test_scores_and_reference_follow_the_protocol(mnist_dir):
    data = MNISTValTest(str(mnist_dir), val_size=5, num_reference=8)
    evaluator = ParzenEvaluator(num_samples=30, seed=3, grid_samples=0)
    g = generator(0)
    metrics = evaluator(g, batches(data)).metrics
    x = data.images.reshape(len(data.images), -1).astype(np.float32) / 255.0  # as the dataset serves them
    valid, test, reference = (x[data.parts == p] for p in range(3))
    ours = parzen_log_likelihood(sample_images(g, 30, 3).reshape(30, -1), valid, test, PAPER_SIGMAS)
    real = parzen_log_likelihood(reference, valid, test, PAPER_SIGMAS)
    assert metrics["parzen_ll"] == pytest.approx(ours.mean, abs=1e-6)
    assert metrics["real_parzen_ll"] == pytest.approx(real.mean, abs=1e-6)
    assert metrics["real_parzen_se"] == pytest.approx(real.se, abs=1e-6)
    assert metrics["real_parzen_sigma"] == real.sigma
    assert metrics["real_parzen_ll"] != pytest.approx(metrics["parzen_ll"])


def test_reference_is_computed_once_per_data(mnist_dir, monkeypatch):
    calls = []
    real_fn = parzen_evaluate.parzen_log_likelihood
    monkeypatch.setattr(parzen_evaluate, "parzen_log_likelihood", lambda *a, **k: calls.append(1) or real_fn(*a, **k))
    evaluator = ParzenEvaluator(num_samples=20, grid_samples=0)
    first = batches(MNISTValTest(str(mnist_dir), val_size=5, num_reference=8))
    a = evaluator(generator(0), first).metrics
    b = evaluator(generator(1), first).metrics  # other weights, same data: the reference is reused
    assert len(calls) == 3 and a["parzen_ll"] != b["parzen_ll"] and a["real_parzen_ll"] == b["real_parzen_ll"]
    other = batches(MNISTValTest(str(mnist_dir), val_size=5, num_reference=3))
    c = evaluator(generator(1), other).metrics  # other reference images: computed again
    assert len(calls) == 5 and c["real_parzen_ll"] != b["real_parzen_ll"]


def test_no_reference_without_reference_images(mnist_dir):
    metrics = ParzenEvaluator(num_samples=20, grid_samples=0)(
        generator(0), batches(MNISTValTest(str(mnist_dir), val_size=5))).metrics
    assert set(metrics) == {"parzen_ll", "parzen_se", "parzen_ll_val", "parzen_sigma"}
