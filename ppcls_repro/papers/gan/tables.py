"""The GAN paper's Table 1 (MNIST Parzen log-likelihood) for ``tools/reproduce.py``."""
from ppcls_repro.engine.reproduce import PAPER_TABLES, PaperTable, TableRow


@PAPER_TABLES.register
def gan() -> PaperTable:
    return PaperTable("GAN (NeurIPS 2014), Table 1: Parzen window log-likelihood of MNIST test digits", (
        TableRow("mnist", "configs/gan_mnist.yaml", "releases/gan_mnist/continuation_714/gan_mnist"),
    ))
