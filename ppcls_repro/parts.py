"""Imports every module that registers a buildable part (explicitly: no directory scans).

Shared parts first, then one block per paper; a new paper adds its block here.
"""
# shared: losses, optimizers and schedules, the supervised step, the SR evaluator and pipeline
import ppcls_repro.deploy.sr  # noqa: F401
import ppcls_repro.engine.evaluate  # noqa: F401
import ppcls_repro.engine.optim  # noqa: F401
import ppcls_repro.engine.steps  # noqa: F401
import ppcls_repro.losses  # noqa: F401

# SRCNN, FSRCNN
import ppcls_repro.data.fsrcnn_data  # noqa: F401
import ppcls_repro.data.sr_datasets  # noqa: F401
import ppcls_repro.models.fsrcnn  # noqa: F401
import ppcls_repro.models.srcnn  # noqa: F401

# ResNet, SENet (classification)
import ppcls_repro.data.cifar  # noqa: F401
import ppcls_repro.data.imagenet  # noqa: F401
import ppcls_repro.data.mnist  # noqa: F401
import ppcls_repro.deploy.classification  # noqa: F401
import ppcls_repro.engine.evaluate_cls  # noqa: F401
import ppcls_repro.models.resnet  # noqa: F401
import ppcls_repro.models.senet  # noqa: F401

# GAN
import ppcls_repro.deploy.gan  # noqa: F401
import ppcls_repro.engine.adversarial  # noqa: F401
import ppcls_repro.engine.parzen_evaluate  # noqa: F401
import ppcls_repro.models.gan  # noqa: F401

# DnCNN
import ppcls_repro.data.denoise  # noqa: F401
import ppcls_repro.deploy.denoise  # noqa: F401
import ppcls_repro.engine.denoise_evaluate  # noqa: F401
import ppcls_repro.losses.dncnn  # noqa: F401
import ppcls_repro.models.dncnn  # noqa: F401

# HybridSN
import ppcls_repro.data.hsi  # noqa: F401
import ppcls_repro.deploy.hyperspectral  # noqa: F401
import ppcls_repro.engine.hsi_evaluate  # noqa: F401
import ppcls_repro.models.hybridsn  # noqa: F401

# DSCMR
import ppcls_repro.data.crossmodal  # noqa: F401
import ppcls_repro.deploy.retrieval  # noqa: F401
import ppcls_repro.engine.retrieval  # noqa: F401
import ppcls_repro.losses.dscmr  # noqa: F401
import ppcls_repro.models.dscmr  # noqa: F401
