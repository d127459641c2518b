"""The VisualDL logs of a run open in the real VisualDL server and hold what train.log and metrics.json say."""
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ppcls_repro.config import load_config
from ppcls_repro.engine.trainer import train

SRCNN = Path(__file__).resolve().parents[2] / "configs" / "srcnn.yaml"
START_TIMEOUT = 60  # seconds for the server to answer


def visualdl_command() -> str:
    beside_python = Path(sys.executable).parent / "visualdl"
    found = str(beside_python) if beside_python.is_file() else shutil.which("visualdl")
    if not found:
        pytest.fail("the visualdl command is not installed (pip install -r requirements.txt)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.loads(response.read())
    assert body["status"] == 0, body
    return body["data"]


def wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"visualdl exited with {server.returncode}: {log.read_text()[-1000:]}")
        try:
            with urllib.request.urlopen(f"{base}/alive", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"visualdl did not answer within {START_TIMEOUT} s: {log.read_text()[-1000:]}")


def log_values(log: Path, pattern: str) -> list[float]:
    return [float(v) for v in re.findall(pattern, log.read_text())]


def eval_log_values(log: Path, key: str) -> list[float]:
    """``key`` of each '[Eval][Epoch N] psnr: ..., ssim: ...' line (not the 'new best' lines)."""
    lines = [line for line in log.read_text().splitlines() if "[Eval][Epoch" in line and "new best" not in line]
    return [float(re.search(rf"(?:\] |, ){key}: ([0-9.]+)", line).group(1)) for line in lines]


def test_visualdl_server_shows_the_run(srcnn_overrides, tmp_path):
    train(load_config(SRCNN, srcnn_overrides))  # 2 epochs x 3 iterations, logged every iteration
    out = tmp_path / "run"
    metrics = json.loads((out / "metrics.json").read_text())
    port = free_port()
    server_log = tmp_path / "visualdl.log"
    with open(server_log, "w") as sink:
        server = subprocess.Popen([visualdl_command(), "--logdir", str(out / "vdl"), "--host", "127.0.0.1",
                                   "--port", str(port), "--language", "en",  # as the README says
                                   "--disable-telemetry"],  # no traffic off this machine
                                  stdout=sink, stderr=subprocess.STDOUT)
    try:
        api = f"http://127.0.0.1:{port}/app/api"
        wait_until_up(f"http://127.0.0.1:{port}", server, server_log)
        # The web page opens for any browser language: without --language, VisualDL 2.5.3 answers 500
        # to a browser whose languages are neither en nor zh (it sets a cookie to None).
        request = urllib.request.Request(f"http://127.0.0.1:{port}/app/scalar", headers={"Accept-Language": "de-DE"})
        with urllib.request.urlopen(request, timeout=10) as page:
            assert page.status == 200 and b"<title>VisualDL</title>" in page.read()
        scalar_tags = get_json(f"{api}/scalar/tags")
        tags_of = dict(zip(scalar_tags["runs"], map(set, scalar_tags["tags"])))
        (run,) = [r for r, tags in tags_of.items() if "train/loss" in tags]
        assert tags_of.pop(run) == {"train/loss", "train/lr", "train/reader_cost", "train/batch_cost"}
        # one chart per metric, its lines the model, the baseline measured beside it and the paper (runs of VisualDL)
        lines = {"psnr": {"model": "psnr", "bicubic": "bicubic_psnr", "paper": None},
                 "ssim": {"model": "ssim", "bicubic": "bicubic_ssim"}}
        line_runs = {f"eval_{chart}_{line}": chart for chart, kinds in lines.items() for line in kinds}
        assert {r.rsplit("/", 1)[-1]: tags for r, tags in tags_of.items()} == {
            name: {f"eval/{chart}"} for name, chart in line_runs.items()}

        def series(tag: str, of_run: str = run) -> tuple[list[int], list[float]]:
            rows = get_json(f"{api}/scalar/list?run={of_run}&tag={tag}")
            return [r[1] for r in rows], [r[2] for r in rows]

        steps, losses = series("train/loss")
        assert steps == [1, 2, 3, 4, 5, 6]
        assert losses == pytest.approx(log_values(out / "train.log", r"\[Train\].*? loss: ([0-9.e+-]+),"), rel=1e-5)
        _, lrs = series("train/lr")
        assert lrs == pytest.approx(log_values(out / "train.log", r"\[Train\].*? lr: ([0-9.e+-]+),"), rel=1e-3)
        for chart, kinds in lines.items():
            for line, key in kinds.items():
                (line_run,) = [r for r in tags_of if r.endswith(f"eval_{chart}_{line}")]
                steps, values = series(f"eval/{chart}", line_run)
                assert steps == [1, 2]  # one point per evaluated epoch
                if key is None:  # the paper's number, configs/srcnn.yaml Paper.metrics
                    assert values == pytest.approx([32.39, 32.39])
                    continue
                assert values[-1] == pytest.approx(metrics["ours"][key], rel=1e-6)  # stored as float32
                assert values == pytest.approx(eval_log_values(out / "train.log", key), abs=6e-5)  # 4 decimals in the log
        image_tags = get_json(f"{api}/image/tags")["tags"][0]
        assert sorted(image_tags) == ["eval/astronaut", "eval/chelsea", "eval/coffee"]  # num_vdl_images: 3
        assert [i["step"] for i in get_json(f"{api}/image/list?run={run}&tag=eval/astronaut")] == [1, 2]
        text_tags = get_json(f"{api}/text/tags")
        assert set(dict(zip(text_tags["runs"], text_tags["tags"]))[run]) == {"data", "config"}
        assert (out / "psnr_curve.png").stat().st_size > 1000  # and the run's curve beside its log
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
