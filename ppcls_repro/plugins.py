"""The plugin list: imports every module that registers a buildable part (explicitly: no scans).

Imported by the entry points (``ppcls_repro.cli``, so every ``tools/*.py``) and by the tests; nothing
below ``papers/`` imports it. Code that uses the library directly imports it once first
(``import ppcls_repro.plugins``). Shared parts first, then one block per paper; a new paper adds its block.
"""
# shared: losses, optimizers and schedules, the supervised step, the SR evaluator and pipeline
import ppcls_repro.engine.optim  # noqa: F401
import ppcls_repro.engine.steps  # noqa: F401
import ppcls_repro.losses  # noqa: F401

# SRCNN, FSRCNN
import ppcls_repro.papers.sr.fsrcnn_data  # noqa: F401
import ppcls_repro.papers.sr.datasets  # noqa: F401
import ppcls_repro.papers.sr.deploy  # noqa: F401
import ppcls_repro.papers.sr.evaluate  # noqa: F401
import ppcls_repro.papers.sr.fsrcnn  # noqa: F401
import ppcls_repro.papers.sr.srcnn  # noqa: F401
import ppcls_repro.papers.sr.tables  # noqa: F401
import ppcls_repro.papers.sr.weights  # noqa: F401

# ResNet, SENet (classification; MNIST is shared with the GAN)
import ppcls_repro.data.mnist  # noqa: F401
import ppcls_repro.papers.resnet.cifar  # noqa: F401
import ppcls_repro.papers.resnet.imagenet  # noqa: F401
import ppcls_repro.papers.resnet.deploy  # noqa: F401
import ppcls_repro.papers.resnet.evaluate  # noqa: F401
import ppcls_repro.papers.resnet.resnet  # noqa: F401
import ppcls_repro.papers.resnet.senet  # noqa: F401
import ppcls_repro.papers.resnet.tables  # noqa: F401
import ppcls_repro.papers.resnet.weights  # noqa: F401

# GAN
import ppcls_repro.papers.gan.data  # noqa: F401
import ppcls_repro.papers.gan.deploy  # noqa: F401
import ppcls_repro.papers.gan.step  # noqa: F401
import ppcls_repro.papers.gan.evaluate  # noqa: F401
import ppcls_repro.papers.gan.model  # noqa: F401
import ppcls_repro.papers.gan.tables  # noqa: F401

# DnCNN
import ppcls_repro.papers.dncnn.data  # noqa: F401
import ppcls_repro.papers.dncnn.deploy  # noqa: F401
import ppcls_repro.papers.dncnn.evaluate  # noqa: F401
import ppcls_repro.papers.dncnn.loss  # noqa: F401
import ppcls_repro.papers.dncnn.model  # noqa: F401
import ppcls_repro.papers.dncnn.tables  # noqa: F401
import ppcls_repro.papers.dncnn.weights  # noqa: F401

# HybridSN
import ppcls_repro.papers.hybridsn.data  # noqa: F401
import ppcls_repro.papers.hybridsn.deploy  # noqa: F401
import ppcls_repro.papers.hybridsn.evaluate  # noqa: F401
import ppcls_repro.papers.hybridsn.model  # noqa: F401
import ppcls_repro.papers.hybridsn.tables  # noqa: F401

# DSCMR
import ppcls_repro.papers.dscmr.data  # noqa: F401
import ppcls_repro.papers.dscmr.deploy  # noqa: F401
import ppcls_repro.papers.dscmr.evaluate  # noqa: F401
import ppcls_repro.papers.dscmr.loss  # noqa: F401
import ppcls_repro.papers.dscmr.model  # noqa: F401
import ppcls_repro.papers.dscmr.step  # noqa: F401
import ppcls_repro.papers.dscmr.tables  # noqa: F401
