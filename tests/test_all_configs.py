"""Every YAML in configs/ loads, builds its model, and (where tiny data is defined) trains briefly."""
from pathlib import Path

import pytest

from ppcls_repro.config import load_config, set_name
from ppcls_repro.engine.trainer import train
from ppcls_repro.registry import EVALUATORS, STEPS

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


def tiny_sr(config: Path, tiny_images: Path, tmp_path: Path) -> list[str]:
    return [f"DataLoader.Train.dataset.root={tiny_images}", "DataLoader.Train.dataset.manifest=null",
            f"DataLoader.Train.dataset.cache_dir={tmp_path / 'cache'}", "DataLoader.Train.sampler.batch_size=4",
            f"DataLoader.Eval.dataset.root={tiny_images}", "DataLoader.Eval.dataset.manifest=null"]


def tiny_fsrcnn(config: Path, tiny_images: Path, tmp_path: Path) -> list[str]:
    """tiny_sr; the fine-tuning stages' extra folders are the tiny images too, and the x3 weights that the
    transfer (x2/x4) and General-100 configs start from are a freshly initialised x3 FSRCNN of their size."""
    import paddle

    from ppcls_repro.registry import MODELS

    overrides = tiny_sr(config, tiny_images, tmp_path)
    cfg = load_config(config)
    if cfg["DataLoader"]["Train"]["dataset"].get("extra_roots"):
        overrides.append(f"DataLoader.Train.dataset.extra_roots=[{tiny_images}]")
    if cfg["Global"]["pretrained_model"]:
        weights = tmp_path / "x3.pdparams"
        paddle.save(MODELS.build({**cfg["Arch"], "scale": 3}, "Arch").state_dict(), str(weights))
        overrides.append(f"Global.pretrained_model={weights}")
    return overrides


def tiny_crossmodal_mat(config: Path, tiny_images: Path, tmp_path: Path) -> list[str]:
    """Small .mat files in the official DSCMR layout (train/test x img/txt/img_lab), the config's dimensions."""
    import numpy as np
    import scipy.io

    dataset = load_config(config)["DataLoader"]["Train"]["dataset"]
    folder, rng = tmp_path / "features", np.random.default_rng(0)
    folder.mkdir()
    classes = dataset["num_classes"]
    for part, n in (("train", 2 * classes), ("test", classes)):
        scipy.io.savemat(folder / f"{part}_img.mat", {f"{part}_img": rng.random((n, dataset["image_dim"]))})
        scipy.io.savemat(folder / f"{part}_txt.mat", {f"{part}_txt": rng.standard_normal((n, dataset["text_dim"]))})
        scipy.io.savemat(folder / f"{part}_img_lab.mat", {f"{part}_img_lab": (np.arange(n) % classes)[:, None]})
    return [f"DataLoader.{split}.dataset.root={folder}" for split in ("Train", "Eval")]


def tiny_crossmodal_synthetic(config: Path, tiny_images: Path, tmp_path: Path) -> list[str]:
    """Two synthetic pairs per class for training (one carved for validation), one per class for test."""
    classes = load_config(config)["DataLoader"]["Train"]["dataset"]["num_classes"]
    return [f"DataLoader.{split}.dataset.{key}={n * classes}"
            for split in ("Train", "Eval") for key, n in (("num_train", 2), ("num_test", 1))]


def tiny_hsi(config: Path, tiny_images: Path, tmp_path: Path) -> list[str]:
    """A 12x12 scene with 40 bands as MATLAB files (label map and cube): the real-cube configs read them,
    the synthetic ones lay their cube on the map."""
    import numpy as np
    import scipy.io

    from ppcls_repro.papers.hybridsn.data import synthetic_cube

    gt = np.zeros((12, 12), np.uint8)
    for k in range(16):
        r, c = divmod(k, 4)
        gt[3 * r:3 * r + 2, 3 * c:3 * c + 2] = k + 1
    scipy.io.savemat(tmp_path / "tiny_gt.mat", {"tiny_gt": gt})
    scipy.io.savemat(tmp_path / "tiny_cube.mat", {"tiny_cube": synthetic_cube(gt, 40, seed=1)})
    overrides = []
    for split in ("Train", "Eval"):
        node = f"DataLoader.{split}"
        overrides += [f"{node}.dataset.root={tmp_path}", f"{node}.dataset.gt_file=tiny_gt.mat",
                      f"{node}.dataset.gt_key=tiny_gt", f"{node}.dataset.cube_file=tiny_cube.mat",
                      f"{node}.dataset.cube_key=tiny_cube", f"{node}.dataset.synthetic_bands=40",
                      f"{node}.dataset.cache_dir={tmp_path / 'cache'}", f"{node}.sampler.batch_size=8"]
    return overrides


def _photo_crops(tiny_images: Path, size: int, count: int, gray: bool = False):
    """``count`` size x size crops of the real photos in ``tiny_images`` (uint8, HWC or HW)."""
    import numpy as np
    from PIL import Image

    photos = [np.asarray(Image.open(p).convert("L" if gray else "RGB")) for p in sorted(tiny_images.iterdir())]
    crops = [photos[i % len(photos)][(3 * i) % 30:(3 * i) % 30 + size, (5 * i) % 25:(5 * i) % 25 + size]
             for i in range(count)]
    return np.stack(crops)


def _classification_loaders() -> list[str]:
    """Batches of 4 read in the main process (no worker start-up in a two-iteration run)."""
    return [f"DataLoader.{split}.{key}" for split in ("Train", "Eval")
            for key in ("loader.num_workers=0", "sampler.batch_size=4")]


def tiny_cifar(config: Path, tiny_images: Path, tmp_path: Path) -> list[str]:
    """CIFAR-10 python batches cut from the real photos: 5 training batches of 2, a test batch of 3."""
    import numpy as np

    from ppcls_repro.papers.resnet.cifar import write_batch

    folder = tmp_path / "cifar"
    folder.mkdir()
    images = _photo_crops(tiny_images, 32, 13)
    for i in range(5):
        write_batch(folder / f"data_batch_{i + 1}", images[2 * i:2 * i + 2], [2 * i, 2 * i + 1])
    write_batch(folder / "test_batch", images[10:], np.arange(3))
    return [f"DataLoader.{split}.dataset.root={folder}" for split in ("Train", "Eval")] + _classification_loaders()


def tiny_mnist(config: Path, tiny_images: Path, tmp_path: Path) -> list[str]:
    """MNIST IDX files (gzip): 10 training and 3 test 28x28 grey crops of the real photos."""
    import numpy as np

    from ppcls_repro.data.mnist import write_idx

    folder = tmp_path / "mnist"
    folder.mkdir()
    images = _photo_crops(tiny_images, 28, 13, gray=True)
    write_idx(folder / "train-images-idx3-ubyte.gz", images[:10])
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.arange(10))
    write_idx(folder / "t10k-images-idx3-ubyte.gz", images[10:])
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.arange(3))
    return [f"DataLoader.{split}.dataset.root={folder}" for split in ("Train", "Eval")] + _classification_loaders()


def tiny_imagenet(config: Path, tiny_images: Path, tmp_path: Path) -> list[str]:
    """A PaddleClas list file over the four real photos; 32-pixel crops instead of 224 to stay fast on CPU."""
    from ppcls_repro.papers.resnet.imagenet import write_list_file

    write_list_file(tmp_path / "list.txt", [(p.name, i) for i, p in enumerate(sorted(tiny_images.iterdir()))])
    overrides = []
    for split in ("Train", "Eval"):
        node = f"DataLoader.{split}.dataset"
        overrides += [f"{node}.root={tiny_images}", f"{node}.list_file={tmp_path / 'list.txt'}",
                      f"{node}.crop_size=32"]
    return overrides + ["DataLoader.Train.dataset.scale_range=[36, 48]",
                        "DataLoader.Eval.dataset.resize_short=36", *_classification_loaders()]


def tiny_gan_mnist(config: Path, tiny_images: Path, tmp_path: Path) -> list[str]:
    """tiny_mnist for the GAN: 10 training images of which 3 validate, 50 generated samples, no loader tweaks."""
    overrides = tiny_mnist(config, tiny_images, tmp_path)
    return overrides + ["DataLoader.Train.dataset.val_size=3", "DataLoader.Eval.dataset.val_size=3",
                        "DataLoader.Eval.dataset.num_val=null", "DataLoader.Eval.dataset.num_reference=5",
                        "Metric.num_samples=50"]


def tiny_denoise(config: Path, tiny_images: Path, tmp_path: Path) -> list[str]:
    """The four real photos converted to gray (DnCNN's data is grayscale): training patches and eval images."""
    from PIL import Image

    folder = tmp_path / "gray"
    folder.mkdir(exist_ok=True)
    for path in sorted(tiny_images.iterdir()):
        Image.open(path).convert("L").save(folder / path.name)
    return [f"DataLoader.Train.dataset.root={folder}", f"DataLoader.Train.dataset.cache_dir={tmp_path / 'cache'}",
            "DataLoader.Train.sampler.batch_size=4", f"DataLoader.Eval.dataset.root={folder}",
            "DataLoader.Train.dataset.manifest=null", "DataLoader.Eval.dataset.manifest=null"]


# dataset name of DataLoader.Train (or "<Step.name>/<dataset>" where a step needs its own) -> overrides
# that point the config at tiny test data
TINY_DATA = {
    "AdversarialStep/MNIST": tiny_gan_mnist,
    "CIFAR10": tiny_cifar,
    "ImageNet": tiny_imagenet,
    "MNIST": tiny_mnist,
    "HSIWindows": tiny_hsi,
    "SRCNNPatches": tiny_sr,
    "DenoisePatches": tiny_denoise,
    "FSRCNNPatches": tiny_fsrcnn,
    "CrossModalFeatures": tiny_crossmodal_mat,
    "SyntheticCrossModal": tiny_crossmodal_synthetic,
}


def test_there_are_configs():
    assert any(c.name == "srcnn.yaml" for c in CONFIGS)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_config_loads_and_builds(config: Path):
    cfg = load_config(config)
    step = STEPS.get(cfg["Step"]["name"]).from_config(cfg, steps_per_epoch=10)
    assert sum(p.size for p in step.eval_model.parameters()) > 0


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_config_trains_two_iterations_and_evaluates(config: Path, tiny_images: Path, tmp_path: Path):
    cfg = load_config(config)
    dataset = cfg["DataLoader"]["Train"]["dataset"]["name"]
    dataset = f"{cfg['Step']['name']}/{dataset}" if f"{cfg['Step']['name']}/{dataset}" in TINY_DATA else dataset
    if dataset not in TINY_DATA:
        pytest.fail(f"{config.name}: add tiny test data for {dataset} to TINY_DATA")
    overrides = [f"Global.output_dir={tmp_path / 'run'}", "Global.epochs=1", "Global.max_iters_per_epoch=2",
                 "Global.use_visualdl=false", *TINY_DATA[dataset](config, tiny_images, tmp_path)]
    cfg = load_config(config, overrides)
    report = train(cfg)
    assert report["epoch"] == 1 and report["ours"]
    if "Metric" in cfg:  # the evaluator gives every name it declares (best_metric is checked against them)
        names = EVALUATORS.build(cfg["Metric"], "Metric").metric_names
        assert set(names) <= set(report["ours"]), f"declared {names}, gave {sorted(report['ours'])}"


def randomise(net) -> None:
    """Weights with outputs of order one whatever the config's initialisation (the paper's N(0, 1e-3)
    makes near-zero outputs that would hide any static/dygraph difference)."""
    import numpy as np

    rng = np.random.default_rng(0)
    for param in net.parameters():
        shape = list(param.shape)
        if "float" not in str(param.dtype):
            continue
        if len(shape) >= 2:  # variance-preserving for the fan-in
            values = rng.normal(0.0, (1.0 / float(np.prod(shape[1:]))) ** 0.5, shape)
        else:
            values = param.numpy() + rng.normal(0.0, 0.01, shape)
        param.set_value(values.astype(param.numpy().dtype))


# Train datasets whose pipeline reads data at export (CIFAR: the training set's mean image;
# HSI: the scene's PCA)
DATA_AT_EXPORT = {"CIFAR10", "CIFAR100", "HSIWindows"}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_config_exports_and_static_equals_dygraph(config: Path, tiny_images: Path, tmp_path: Path):
    """Export from fresh (randomised) weights; the Paddle Inference output of every static model
    (one, or one per branch) equals the dygraph output."""
    import numpy as np
    import paddle

    from ppcls_repro.deploy.export import example_inputs, export_model
    from ppcls_repro.engine.setup import build_network
    from ppcls_repro.deploy.predictor import Predictor

    dataset = load_config(config)["DataLoader"]["Train"]["dataset"]["name"]
    data = TINY_DATA[dataset](config, tiny_images, tmp_path) if dataset in DATA_AT_EXPORT else []
    cfg = load_config(config, data)
    net = build_network(cfg, None, "fresh")
    assert callable(getattr(net, "export_spec", None)), f"{type(net).__name__} has no export_spec()"
    randomise(net)
    weights = tmp_path / "weights.pdparams"
    paddle.save(net.state_dict(), str(weights))
    cfg = load_config(config, [*data, f"Global.pretrained_model={weights}",
                               f"Export.save_dir={tmp_path / 'inference'}"])
    export_model(cfg)
    dygraph = build_network(cfg, paddle.load(str(weights)), str(weights))
    for sub, branch in dygraph.export_spec().static_models(dygraph).items():
        inputs = example_inputs(branch.inputs, seed=1)  # other shapes than the export's own check
        with paddle.no_grad():
            expected = branch.network(*[paddle.to_tensor(x) for x in inputs])
        expected = [e.numpy() for e in (expected if isinstance(expected, (list, tuple)) else [expected])]
        outputs = Predictor(tmp_path / "inference" / sub)(inputs)
        assert len(outputs) == len(expected)
        for out, ref in zip(outputs, expected):
            # not a constant output (a softmax over 1000 classes of a random net is near 1e-3 everywhere,
            # so the outputs' spread is what shows they carry the input), and equal in absolute and
            # relative terms (probabilities are small numbers)
            assert out.shape == ref.shape and np.ptp(ref) > 1e-3 * np.abs(ref).max() > 0
            assert np.abs(out - ref).max() < 1e-5
            assert np.allclose(out, ref, rtol=1e-3, atol=1e-5 * np.abs(ref).max())


# The test sets of each paper's tables (SRCNN: Set5, Set14; FSRCNN: also BSD200; DnCNN: Set12, BSD68)
PAPER_TEST_SETS = {"srcnn": ["Set5", "Set14"], "fsrcnn": ["Set5", "Set14", "BSD200"], "dncnn": ["Set12", "BSD68"]}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_configs_of_papers_with_tables_list_their_test_sets(config: Path):
    """The validation set (DataLoader.Eval) is one of them, and it is its paper numbers' only home."""
    family = config.stem.split("_")[0]
    cfg = load_config(config)
    if family not in PAPER_TEST_SETS:
        assert "Test" not in cfg
        return
    assert list(cfg["Test"]) == PAPER_TEST_SETS[family]
    validation = set_name(cfg["DataLoader"]["Eval"]["dataset"])
    assert validation == PAPER_TEST_SETS[family][0] and cfg["Test"][validation]["paper"] == {}
    for name, entry in cfg["Test"].items():
        assert entry["root"] == f"dataset/{name}"
        assert entry["manifest"] == (None if name == "BSD200" else name.lower())  # BSD200: no pinned copy
    if cfg["Paper"]["baseline"]:  # a bicubic row is known for Set14 at every scale
        assert "bicubic_psnr" in cfg["Test"]["Set14"]["paper"]
