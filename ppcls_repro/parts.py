"""Imports every module that registers a buildable part (explicitly: no directory scans)."""
from ppcls_repro import losses  # noqa: F401
from ppcls_repro.data import sr_datasets  # noqa: F401
from ppcls_repro.deploy import sr  # noqa: F401  (inference pipelines)
from ppcls_repro.engine import evaluate, optim, steps  # noqa: F401
from ppcls_repro.models import srcnn  # noqa: F401
from ppcls_repro.data import crossmodal  # noqa: F401
from ppcls_repro.engine import retrieval  # noqa: F401
from ppcls_repro.losses import dscmr as dscmr_losses  # noqa: F401
from ppcls_repro.models import dscmr  # noqa: F401
from ppcls_repro.data import fsrcnn_data  # noqa: F401
from ppcls_repro.models import fsrcnn  # noqa: F401
from ppcls_repro.data import cifar, imagenet, mnist  # noqa: F401
from ppcls_repro.engine import evaluate_cls  # noqa: F401
from ppcls_repro.models import resnet, senet  # noqa: F401
from ppcls_repro.data import hsi  # noqa: F401
from ppcls_repro.engine import hsi_evaluate  # noqa: F401
from ppcls_repro.models import hybridsn  # noqa: F401
from ppcls_repro.data import denoise as denoise_data  # noqa: F401
from ppcls_repro.deploy import denoise  # noqa: F401  (the Denoise pipeline)
from ppcls_repro.engine import denoise_evaluate  # noqa: F401
from ppcls_repro.losses import dncnn as dncnn_losses  # noqa: F401
from ppcls_repro.models import dncnn  # noqa: F401
from ppcls_repro.deploy import classification, retrieval  # noqa: F401  (inference pipelines)
from ppcls_repro.models import gan  # noqa: F401
from ppcls_repro.engine import adversarial, parzen_evaluate  # noqa: F401
from ppcls_repro.deploy import gan as gan_pipeline  # noqa: F401  (inference pipeline)
from ppcls_repro.deploy import hyperspectral  # noqa: F401  (the HyperspectralMap pipeline)
