"""Every command of the README's ```bash blocks is run here, or listed in SKIPPED with the reason.

The train/eval/export/infer commands of SRCNN (and the DnCNN export + inference) run as written, in
README order, with their ``output/`` paths moved into a temporary folder and tiny overrides appended
to trainings (the last ``-o`` wins), so a long run takes seconds and its weights feed the commands
after it. The user's own inputs the README names (``photo.png``, ``my_photos/``, ``clean.png``) are
real photographs made here. A README command that is neither run nor listed fails the test, and so
does a listed one that left the README.
"""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skimage.data
import yaml
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"

# Appended to every training the test runs: one epoch of a few iterations; a resume goes on for one more.
TINY_TRAINING = ["-o", "Global.epochs=1", "-o", "Global.max_iters_per_epoch=3", "-o", "Global.print_batch_step=1"]
TINY_RESUME = ["-o", "Global.epochs=2", "-o", "Global.max_iters_per_epoch=3", "-o", "Global.print_batch_step=1"]
RUN_TOOLS = ("tools/train.py", "tools/eval.py", "tools/export_model.py", "tools/infer.py")
RUN_CONFIGS = ("configs/srcnn.yaml", "configs/dncnn_s25.yaml")
EXPORTED_HERE = ("output/srcnn", "output/dncnn_s25/")  # what the exports of those configs write
LONG_TRAINING = "a training of another paper (hours); the SRCNN trainings run here exercise the same loop"
SKIPPED = {
    "pip install -r requirements.txt": "installs packages",
    "python -m pytest -q": "the whole test suite, which holds this test",
    "python tools/train.py -c configs/fsrcnn_x3.yaml": LONG_TRAINING,
    "python tools/train.py -c configs/fsrcnn_x2.yaml": LONG_TRAINING,
    "python tools/benchmark_sr_speed.py --model configs/srcnn.yaml releases/srcnn_x3/srcnn_x3 --model "
    "configs/fsrcnn_x3.yaml releases/fsrcnn_x3/fsrcnn_x3 --model configs/fsrcnn_s_x3.yaml "
    "releases/fsrcnn_s_x3/fsrcnn_s_x3 --model configs/srcnn.yaml - \"Arch.kernel_sizes=[9, 5, 5]\"":
        "a timing benchmark (minutes of interleaved runs)",
    "python tools/train.py -c configs/gan_mnist.yaml": LONG_TRAINING,
    "python tools/eval.py -c configs/gan_mnist.yaml -o Global.pretrained_model=output/gan_mnist/best_model "
    "-o DataLoader.Eval.dataset.num_val=null": "needs the GAN training above; Parzen on 10,000 images takes minutes",
    "python tools/train.py -c configs/dncnn_s25.yaml -o Global.epochs=20 -o Global.max_iters_per_epoch=100 "
    "-o \"Optimizer.lr.decay_epochs=[14, 18]\" -o Global.eval_interval=5 -o Global.save_interval=5 "
    "-o DataLoader.Train.sampler.batch_size=32 -o Global.print_batch_step=20":
        "DnCNN's first iteration waits for ~10 minutes of Train400 patch extraction",
    "python tools/eval.py -c configs/dncnn_s25.yaml -o Global.pretrained_model=releases/dncnn_s25/dncnn_s25":
        "Set12 through the 17-layer DnCNN takes ~2 minutes on this CPU",
    "python tools/reproduce.py --paper srcnn": "scores every row of the paper's table (minutes)",
    "python tools/reproduce.py --paper fsrcnn --weights fsrcnn_x3=output/fsrcnn_x3/best_model":
        "needs the FSRCNN training above; scores six rows",
    "python tools/export_model.py -c configs/resnet20_cifar10.yaml "
    "-o Global.pretrained_model=output/resnet20_cifar10/best_model": "needs CIFAR-10 (not here) and its training",
    "python tools/infer.py --model_dir output/resnet20_cifar10/inference --input cat.png --output out/ --top_k 3":
        "needs the CIFAR-10 export above",
    "python tools/export_model.py -c configs/dscmr_pascal.yaml -o Global.pretrained_model=output/dscmr_pascal/best_model":
        "needs the Pascal Sentence features (not here) and their training",
    "python tools/infer.py --model_dir output/dscmr_pascal/inference --input test_img.mat --gallery test_txt.mat "
    "--query_modality image --top_k 10 --output out/": "needs the DSCMR export above",
    "python tools/export_model.py -c configs/hybridsn_ip.yaml -o Global.pretrained_model=output/hybridsn_ip/best_model":
        "needs the Indian Pines cube (not here) and its training",
    "python tools/infer.py --model_dir output/hybridsn_ip/inference --input Indian_pines_corrected.mat --output out/":
        "needs the HybridSN export above",
    "visualdl --logdir output/srcnn/vdl --host 127.0.0.1 --port 8040 --language en":
        "starts a server (tests/engine/test_visualdl_server.py tests it)",
    "python -m paddle.distributed.launch --gpus 0,1,2,3 tools/train.py -c configs/resnet50_imagenet.yaml":
        "needs 4 GPUs and ImageNet",
    "python -m paddle.distributed.launch --nproc_per_node 2 tools/train.py -c configs/resnet20_mnist.yaml":
        "two CPU processes for an hour (tests/engine/test_distributed.py runs the same launch on a tiny run)",
}


def readme_commands(text: str) -> list[str]:
    """The commands of the ```bash blocks, in order: continuation lines joined, comments dropped,
    tokens joined by one space (a token holding spaces in double quotes, as SKIPPED spells it)."""
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            tokens = shlex.split(line, comments=True)
            if tokens:
                commands.append(" ".join(f'"{t}"' if " " in t else t for t in tokens))
    return commands


COMMANDS = readme_commands(README.read_text())


def runs_here(command: str) -> bool:
    """SRCNN's and DnCNN's train/eval/export commands, and inference on what they exported."""
    tokens = shlex.split(command)
    if command in SKIPPED or tokens[:1] != ["python"] or len(tokens) < 2 or tokens[1] not in RUN_TOOLS:
        return False
    if tokens[1] == "tools/infer.py":
        return tokens[tokens.index("--model_dir") + 1].startswith(EXPORTED_HERE)
    return "-c" in tokens and tokens[tokens.index("-c") + 1] in RUN_CONFIGS


def test_every_command_is_run_or_skipped_by_name_and_the_skip_list_is_current():
    unlisted = [c for c in COMMANDS if not runs_here(c) and c not in SKIPPED]
    assert unlisted == [], "README commands neither run nor listed in SKIPPED"
    assert sorted(set(SKIPPED) - set(COMMANDS)) == [], "SKIPPED lists commands the README no longer has"
    assert sum(runs_here(c) for c in COMMANDS) >= 10  # the quick start, SRCNN, Evaluate, Resume, Export


DATASETS = ("T91", "Set5", "Set12", "BSD400", "MNIST")  # what the README's commands may read


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """Where the commands' ``output/`` goes, with the inputs the README names as the user's own."""
    folder = tmp_path_factory.mktemp("readme")
    photo = np.asarray(skimage.data.astronaut())[100:164, 120:200]
    Image.fromarray(photo).save(folder / "photo.png")
    (folder / "my_photos").mkdir()
    for name in ("coffee", "chelsea"):
        Image.fromarray(np.asarray(getattr(skimage.data, name)())[50:98, 60:120]).save(folder / "my_photos" / f"{name}.png")
    Image.fromarray(np.asarray(skimage.data.camera())[200:264, 200:264]).save(folder / "clean.png")
    # A user's checkout: the repository's code, configs and releases, and dataset/ holding the data that
    # is here (the repository's own links, else the shared datasets beside the clone, as CI has them).
    for name in ("configs", "tools", "releases"):
        (folder / name).symlink_to(REPO / name)
    (folder / "dataset").mkdir()
    for name in DATASETS:
        for source in (REPO / "dataset" / name, REPO.parent / "shared" / "data" / name):
            if source.is_dir():
                (folder / "dataset" / name).symlink_to(source.resolve())
                break
    return folder


def as_run_here(command: str, workspace: Path) -> list[str]:
    """The command's arguments with ``output/`` and the user's inputs moved into ``workspace``, an
    output_dir there for a config command that names none, tiny overrides for a training."""
    args = []
    for token in shlex.split(command):
        token = re.sub(r"(^|=)(output/|out/$)", lambda m: f"{m.group(1)}{workspace}/{m.group(2)}", token)
        args.append(str(workspace / token) if token in ("photo.png", "my_photos/", "clean.png") else token)
    if "-c" in args and not any(a.startswith("Global.output_dir=") for a in args):
        config = yaml.safe_load((REPO / args[args.index("-c") + 1]).read_text())
        args += ["-o", f"Global.output_dir={workspace / config['Global']['output_dir']}"]
    if args[1] == "tools/train.py":
        args += TINY_RESUME if any(a.startswith("Global.checkpoints=") for a in args) else TINY_TRAINING
    return [sys.executable, *args[1:]]


def command_id(index: int) -> str:
    """``07-tools/eval.py-srcnn``: the position in the README and what the command runs."""
    tokens = shlex.split(COMMANDS[index])
    config = Path(tokens[tokens.index("-c") + 1]).stem if "-c" in tokens else ""
    program = next((t for t in tokens[1:] if t.endswith(".py")), tokens[0])
    return "-".join(part for part in (f"{index:02d}", program, config) if part)


@pytest.mark.parametrize("index", range(len(COMMANDS)), ids=command_id)
def test_readme_command(index, workspace):
    command = COMMANDS[index]
    if not runs_here(command):
        pytest.skip(SKIPPED[command])
    if COMMANDS.index(command) < index:  # the quick start's full run is also SRCNN's stage 1
        pytest.skip(f"the same command as README command {COMMANDS.index(command):02d}, run there")
    missing = [name for name in DATASETS if f"dataset/{name}" in command or name == "Set5"
               if not (workspace / "dataset" / name).is_dir()]
    if missing:  # every command run here scores or reads Set5 (the Test section's), some name others
        pytest.skip(f"{', '.join(missing)} not in dataset/ nor in ../shared/data")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(as_run_here(command, workspace), cwd=workspace, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
    if "tools/train.py" in command or "tools/eval.py" in command:
        assert " summary: " in done.stdout  # each ends with its summary block
