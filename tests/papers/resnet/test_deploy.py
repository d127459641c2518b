"""Classification export (softmax appended) and the Classification pipeline: the Eval transform of
each dataset, reproduced from pipeline.json alone, and top-k output equal to the dygraph net."""
import json
from pathlib import Path

import numpy as np
import paddle
import pytest
from PIL import Image

from ppcls_repro.config import load_config
from ppcls_repro.data.mnist import MNIST, write_idx
from ppcls_repro.deploy.export import ExportError, export_model
from ppcls_repro.deploy.infer import InferOptions, infer
from ppcls_repro.deploy.pipeline import load_deployment
from ppcls_repro.engine.setup import build_network
from ppcls_repro.papers.resnet.cifar import CIFAR10, write_batch
from ppcls_repro.papers.resnet.deploy import Classification
from ppcls_repro.papers.resnet.imagenet import ImageNet, write_list_file
from ppcls_repro.registry import ConfigError

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


def _photos(tiny_images: Path, size: int, count: int) -> np.ndarray:
    photos = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(tiny_images.iterdir())]
    return np.stack([photos[i % 4][i:i + size, 2 * i:2 * i + size] for i in range(count)])


@pytest.fixture(scope="module")
def cifar_export(tiny_images, tmp_path_factory):
    """A CIFAR ResNet-8 exported from tiny CIFAR batches cut from real photos."""
    root = tmp_path_factory.mktemp("cifar")
    images = _photos(tiny_images, 32, 8)
    for i in range(5):
        write_batch(root / f"data_batch_{i + 1}", images[i:i + 1], [i])
    write_batch(root / "test_batch", images[5:], [0, 1, 2])
    paddle.seed(0)
    cfg = load_config(CONFIGS / "resnet20_cifar10.yaml",
                      ["Arch.depth=8", *[f"DataLoader.{s}.dataset.root={root}" for s in ("Train", "Eval")]])
    net = build_network(cfg, None, "fresh")
    weights = root / "w.pdparams"
    paddle.save(net.state_dict(), str(weights))
    out = root / "inference"
    export_model(load_config(CONFIGS / "resnet20_cifar10.yaml", [
        "Arch.depth=8", *[f"DataLoader.{s}.dataset.root={root}" for s in ("Train", "Eval")],
        f"Global.pretrained_model={weights}", f"Export.save_dir={out}"]))
    return net, root, out, images


def test_cifar_export_saves_the_training_mean_image_and_class_names(cifar_export):
    _, root, out, images = cifar_export
    mean = np.load(out / "mean_image.npy")
    assert mean.shape == (32, 32, 3)
    assert np.allclose(mean, images[:5].astype(np.float64).mean(axis=0) / 255.0, atol=1e-6)
    pipeline = json.loads((out / "pipeline.json").read_text())["pipeline"]
    assert pipeline["name"] == "Classification" and pipeline["mean_image"] == "mean_image.npy"
    assert pipeline["class_names"][0] == "airplane" and pipeline["input_size"] == [32, 32]


def test_cifar_infer_equals_the_dygraph_softmax_of_the_eval_sample(cifar_export, tmp_path):
    net, root, out, images = cifar_export
    Image.fromarray(images[6]).save(tmp_path / "img.png")
    test = CIFAR10(root=str(root), split="test")
    sample = test[1]["input"]
    assert np.allclose(load_deployment(out).pipeline.preprocess(tmp_path / "img.png"), sample, atol=1e-6)
    report, _ = infer(InferOptions(model_dir=out, input=tmp_path / "img.png", output=tmp_path / "out"))
    assert not report.failed
    written = json.loads((tmp_path / "out" / "img_top5.json").read_text())["predictions"]
    with paddle.no_grad():
        probs = paddle.nn.functional.softmax(net(paddle.to_tensor(sample[None])), axis=-1).numpy()[0]
    order = np.argsort(-probs)[:5]
    assert [p["class_id"] for p in written] == order.tolist()
    assert np.allclose([p["score"] for p in written], probs[order], atol=1e-5)
    assert written[0]["label"] == _cifar_labels()[order[0]]


def _cifar_labels():
    return ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def test_cifar_export_without_data_is_a_clear_error(tmp_path):
    cfg = load_config(CONFIGS / "resnet20_cifar10.yaml", ["Arch.depth=8"])
    net = build_network(cfg, None, "fresh")
    paddle.save(net.state_dict(), str(tmp_path / "w.pdparams"))
    cfg = load_config(CONFIGS / "resnet20_cifar10.yaml", [
        "Arch.depth=8", f"DataLoader.Eval.dataset.root={tmp_path / 'nowhere'}",
        f"Global.pretrained_model={tmp_path / 'w.pdparams'}", f"Export.save_dir={tmp_path / 'inf'}"])
    with pytest.raises(ExportError, match="DataLoader.Eval.dataset.*mean image.*nowhere"):
        export_model(cfg)


def test_mnist_preprocessing_equals_the_eval_dataset(tiny_images, tmp_path):
    gray = np.asarray(Image.open(sorted(tiny_images.iterdir())[1]).convert("L"))[:28, :28]
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", gray[None])
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([3]))
    cfg = load_config(CONFIGS / "resnet20_mnist.yaml")
    facts, assets = Classification.export_facts(cfg)
    assert facts["pad"] == 2 and facts["mean"] == [0.1307] and facts["std"] == [0.3081] and not assets
    pipeline = Classification(num_classes=10, channels=1, input_size=(32, 32), **facts)
    Image.fromarray(np.stack([gray] * 3, axis=2)).save(tmp_path / "digit.png")  # an RGB file of a gray image
    expected = MNIST(root=str(tmp_path), split="test", pad=2)[0]["input"]
    assert np.allclose(pipeline.preprocess(tmp_path / "digit.png"), expected, atol=1e-6)
    Image.fromarray(gray[:20]).save(tmp_path / "small.png")
    with pytest.raises(ValueError, match="small.png.*32x32"):
        pipeline.preprocess(tmp_path / "small.png")


def test_imagenet_preprocessing_equals_the_eval_dataset(tiny_images, tmp_path):
    photo = sorted(tiny_images.iterdir())[0]
    write_list_file(tmp_path / "list.txt", [(photo.name, 0)])
    node = {"name": "ImageNet", "root": str(tiny_images), "list_file": str(tmp_path / "list.txt"), "mode": "eval",
            "resize_short": 40, "crop_size": 32}
    facts, _ = Classification.export_facts({"DataLoader": {"Eval": {"dataset": node}}})
    assert facts["mean"] == [0.485, 0.456, 0.406] and facts["std"] == [0.229, 0.224, 0.225]
    pipeline = Classification(num_classes=1000, channels=3, input_size=(32, 32), **facts)
    expected = ImageNet(**{k: v for k, v in node.items() if k != "name"})[0]["input"]
    assert np.allclose(pipeline.preprocess(photo), expected, atol=1e-5)


def test_resnet_export_spec_appends_softmax():
    cfg = load_config(CONFIGS / "resnet18_imagenet.yaml")
    net = build_network(cfg, None, "fresh")
    spec = net.export_spec()
    assert list(spec.inputs[0].shape) == [-1, 3, 224, 224] or list(spec.inputs[0].shape) == [None, 3, 224, 224]
    x = paddle.to_tensor(np.random.default_rng(0).random((2, 3, 224, 224)).astype(np.float32))
    with paddle.no_grad():
        probs = spec.network(x).numpy()
    assert probs.shape == (2, 1000) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_an_eval_dataset_without_classification_facts_is_a_one_line_error():
    cfg = {"DataLoader": {"Eval": {"dataset": {"name": "SRImageFolder", "root": "nowhere", "scale": 3}}}}
    with pytest.raises(ConfigError, match=r"^DataLoader.Eval.dataset.name: SRImageFolder states no inference "
                                          r"preprocessing for the Classification pipeline \(datasets that do: "
                                          r"CIFAR10, CIFAR100, ImageNet, MNIST\)$"):
        Classification.export_facts(cfg)


def test_an_inverted_mnist_digit_is_named_in_a_warning():
    pipeline = Classification(num_classes=10, channels=1, input_size=(32, 32), dataset="MNIST", color="gray",
                              pad=2, mean=[0.1307], std=[0.3081])
    digit = np.zeros((28, 28, 1), dtype=np.uint8)
    digit[6:22, 12:16] = 255  # a light stroke on black, as MNIST draws a 1
    assert pipeline.inverted_warning(digit, "one.png") is None
    message = pipeline.inverted_warning(255 - digit, "scan.png")
    assert message.startswith("scan.png: light background (border mean 255 of 255)") and "invert it" in message
    cifar = Classification(num_classes=10, channels=3, input_size=(32, 32), dataset="CIFAR10", color="rgb",
                           mean=[0.0, 0.0, 0.0])
    assert cifar.inverted_warning(np.full((32, 32, 3), 250, np.uint8), "sky.png") is None  # a light photo is fine
