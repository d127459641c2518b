"""ResNet's and SENet's tables for ``tools/reproduce.py``: CIFAR-10 (ResNet Table 6, SENet's CIFAR row) and
ImageNet (ResNet Tables 2 and 3, SENet Table 2)."""
from ppcls_repro.engine.reproduce import PAPER_TABLES, PaperTable, TableRow


def _row(stem: str) -> TableRow:
    return TableRow(stem, f"configs/{stem}.yaml", f"releases/{stem}/{stem}")


@PAPER_TABLES.register
def resnet() -> PaperTable:
    return PaperTable("ResNet (CVPR 2016): CIFAR-10 test accuracy (Table 6), ImageNet val top-1 (Tables 2, 3)",
                      tuple(_row(stem) for stem in ("resnet20_cifar10", "resnet32_cifar10", "resnet44_cifar10",
                                                    "resnet56_cifar10", "resnet110_cifar10", "resnet18_imagenet",
                                                    "resnet34_imagenet", "resnet50_imagenet")))


@PAPER_TABLES.register
def senet() -> PaperTable:
    return PaperTable("SENet (CVPR 2018): SE-ResNet-110 on CIFAR-10, SE-ResNet-50 on ImageNet val (Table 2)",
                      (_row("se_resnet110_cifar10"), _row("se_resnet50_imagenet")))
