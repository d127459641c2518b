"""The list of alignment references (``tools/align.py``): imports every paper's ``reference_torch.py``,
which registers its references in ``engine.alignment.ALIGNMENT_REFERENCES``. These modules import torch
(the ``test`` extra), so nothing in the package imports this list; ``tools/align.py`` and the tests do.
A paper that gains a reference adds its line.
"""
import ppcls_repro.plugins  # noqa: F401  (the models, losses and optimisers the suite's side builds)

import ppcls_repro.papers.sr.reference_torch  # noqa: F401  (SRCNN, FSRCNN)
import ppcls_repro.papers.dncnn.reference_torch  # noqa: F401  (DnCNN)
import ppcls_repro.papers.resnet.reference_torch  # noqa: F401  (CIFAR ResNets, SE CIFAR ResNets)
import ppcls_repro.papers.hybridsn.reference_torch  # noqa: F401  (HybridSN)
import ppcls_repro.papers.gan.reference_torch  # noqa: F401  (the GAN)
import ppcls_repro.papers.dscmr.reference_torch  # noqa: F401  (DSCMR)
