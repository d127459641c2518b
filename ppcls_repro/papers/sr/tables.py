"""The SR papers' tables for ``tools/reproduce.py``: SRCNN (ECCV 2014) and FSRCNN (ECCV 2016), one row per
model and scale; each config lists the row's test sets and the paper's numbers on them."""
from ppcls_repro.engine.reproduce import PAPER_TABLES, PaperTable, TableRow


@PAPER_TABLES.register
def srcnn() -> PaperTable:
    return PaperTable("SRCNN 9-1-5 trained on T91 (ECCV 2014): PSNR on Y, scale pixels shaved", (
        TableRow("x2", "configs/srcnn_x2.yaml", "releases/srcnn_x2/srcnn_x2"),
        TableRow("x3", "configs/srcnn.yaml", "releases/srcnn_x3/srcnn_x3"),
        TableRow("x4", "configs/srcnn_x4.yaml", "releases/srcnn_x4/srcnn_x4"),
    ))


@PAPER_TABLES.register
def fsrcnn() -> PaperTable:
    """x3: Table 3 (T91); x2 and x4: Table 4's numbers (T91 + General-100) beside our T91-only transfers."""
    return PaperTable("FSRCNN and FSRCNN-s (ECCV 2016): PSNR on Y, scale pixels shaved", tuple(
        TableRow(f"{model}_x{scale}", f"configs/{model}_x{scale}.yaml", f"releases/{model}_x{scale}/{model}_x{scale}")
        for model in ("fsrcnn", "fsrcnn_s") for scale in (2, 3, 4)))
