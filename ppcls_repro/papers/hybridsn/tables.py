"""HybridSN's table (GRSL 2019, Indian Pines OA / AA / Kappa) for ``tools/reproduce.py``."""
from ppcls_repro.engine.reproduce import PAPER_TABLES, PaperTable, TableRow


@PAPER_TABLES.register
def hybridsn() -> PaperTable:
    return PaperTable("HybridSN (GRSL 2019): Indian Pines, 30% training pixels", (
        TableRow("indian_pines", "configs/hybridsn_ip.yaml", "releases/hybridsn_ip/hybridsn_ip"),
    ))
