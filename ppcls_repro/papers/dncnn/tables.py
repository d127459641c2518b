"""DnCNN's table (TIP 2017, Table III and the BSD68 averages) for ``tools/reproduce.py``: one row per model."""
from ppcls_repro.engine.reproduce import PAPER_TABLES, PaperTable, TableRow


@PAPER_TABLES.register
def dncnn() -> PaperTable:
    return PaperTable("DnCNN (TIP 2017): average PSNR on Set12 and BSD68, Gaussian noise of the row's sigma", (
        TableRow("S15", "configs/dncnn_s15.yaml", "releases/dncnn_s15/dncnn_s15"),
        TableRow("S25", "configs/dncnn_s25.yaml", "releases/dncnn_s25/dncnn_s25"),
        TableRow("S50", "configs/dncnn_s50.yaml", "releases/dncnn_s50/dncnn_s50"),
        TableRow("B_sigma25", "configs/dncnn_b.yaml", "releases/dncnn_b/dncnn_b"),
    ))
