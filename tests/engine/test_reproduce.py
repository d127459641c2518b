"""tools/reproduce.py: a paper's table row by row, with rows whose weights or data are absent marked."""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ppcls_repro.config import load_config
from ppcls_repro.engine.reproduce import PAPER_TABLES, Line, PaperTable, TableRow, format_lines, reproduce
from ppcls_repro.engine.scoring import evaluate
from ppcls_repro.engine.trainer import train
from ppcls_repro.registry import ConfigError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def table(srcnn_overrides, tiny_images, tmp_path) -> PaperTable:
    """Rows of a config whose test sets are the tiny images (with a paper number) and an absent folder:
    one row with trained weights, one without, one whose every set is absent."""
    train(load_config(REPO / "configs" / "srcnn.yaml", [*srcnn_overrides, "Global.epochs=1"]))
    raw = yaml.safe_load((REPO / "configs" / "srcnn.yaml").read_text())
    raw["DataLoader"]["Eval"]["dataset"].update(root=str(tiny_images), manifest=None)
    raw["Test"] = {"mine": {"root": str(tiny_images), "paper": {"psnr": 20.0}},
                   "Set14": {"root": str(tmp_path / "Set14"), "paper": {"bicubic_psnr": 27.54}}}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    raw["Test"] = {"gone": {"root": str(tmp_path / "gone")}}
    (tmp_path / "absent.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    weights = str(tmp_path / "run" / "best_model")
    return PaperTable("tiny", (TableRow("x3", str(tmp_path / "tiny.yaml"), weights),
                               TableRow("x2", str(tmp_path / "tiny.yaml"), str(tmp_path / "none")),
                               TableRow("nodata", str(tmp_path / "absent.yaml"), weights)))


def test_rows_give_paper_ours_and_difference_and_mark_what_is_absent(table, tmp_path):
    lines = reproduce(table, tmp_path / "out")
    scored = evaluate(load_config(table.rows[0].config, [f"Global.output_dir={tmp_path / 'check'}",
                                                         f"Global.pretrained_model={table.rows[0].weights}"]))
    ours = scored["sets"]["mine"]["ours"]["psnr"]
    assert lines[:3] == [Line("x3", "mine", "psnr", 20.0, ours), Line("x3", "Set14", "psnr", None, None,
                                                                      "missing: data not here"),
                         Line("x3", "Set14", "bicubic_psnr", 27.54, None, "missing: data not here")]
    assert lines[0].difference == pytest.approx(ours - 20.0)
    absent = f"no weights: {tmp_path / 'none'} not found"
    assert [(l.row, l.set, l.metric, l.paper, l.note) for l in lines[3:6]] == [
        ("x2", "mine", "psnr", 20.0, absent), ("x2", "Set14", "psnr", None, absent),
        ("x2", "Set14", "bicubic_psnr", 27.54, absent)]
    assert lines[6:] == [Line("nodata", "gone", "psnr", None, None, "missing: data not here")]
    assert (tmp_path / "out" / "x3" / "eval" / "mine" / "metrics.json").is_file()


def test_given_weights_replace_the_release_and_unknown_rows_are_refused(table, tmp_path):
    lines = reproduce(table, tmp_path / "out", {"x2": table.rows[0].weights})
    assert lines[3].row == "x2" and lines[3].ours is not None and lines[3].note == ""
    with pytest.raises(ConfigError, match=r"^--weights x5: no such row \(rows: x3, x2, nodata\)$"):
        reproduce(table, tmp_path / "out", {"x5": "w"})


def test_markdown_rows_sign_the_difference():
    rows = format_lines([Line("x3", "Set5", "psnr", 32.39, 32.3782), Line("x2", "Set5", "psnr", 36.34, None, "no")])
    assert rows[2] == "| x3 | Set5 | psnr | 32.3900 | 32.3782 | -0.0118 |  |"
    assert rows[3] == "| x2 | Set5 | psnr | 36.3400 | - | - | no |"


@pytest.mark.parametrize("name", PAPER_TABLES.names())
def test_every_paper_table_names_configs_that_load_and_labels_that_are_unique(name):
    table = PAPER_TABLES.get(name)()
    assert table.rows and len({row.label for row in table.rows}) == len(table.rows)
    for row in table.rows:
        cfg = load_config(REPO / row.config)
        assert cfg["Paper"]["metrics"] or any(entry["paper"] for entry in cfg.get("Test", {}).values()), row.config
        assert row.weights.startswith("releases/")


def test_the_tool_refuses_an_unknown_paper_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "tools" / "reproduce.py"), "--paper", "srcn",
                           "--output_dir", str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: --paper: unknown paper table 'srcn' (did you mean srcnn")
    assert not (tmp_path / "out").exists()
