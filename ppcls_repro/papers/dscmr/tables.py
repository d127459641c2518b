"""DSCMR's table (CVPR 2019, Pascal Sentence mAP) for ``tools/reproduce.py``."""
from ppcls_repro.engine.reproduce import PAPER_TABLES, PaperTable, TableRow


@PAPER_TABLES.register
def dscmr() -> PaperTable:
    return PaperTable("DSCMR (CVPR 2019): Pascal Sentence, mAP@all", (
        TableRow("pascal", "configs/dscmr_pascal.yaml", "releases/dscmr_pascal/dscmr_pascal"),
    ))
