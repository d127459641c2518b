"""Paper card: GAN (Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014,
https://arxiv.org/abs/1406.2661).

Used: the MNIST model of Section 5 with the settings of the authors' pylearn2 ``mnist.yaml`` (G: 100-d
noise, ReLU 1200-1200, sigmoid 784; D: maxout 240x5 twice, dropout), Algorithm 1 (k = 1) and the
Gaussian Parzen-window log-likelihood of Table 1 (225 +- 2 on MNIST test).

Files: ``model.py`` (G, maxout D), ``step.py`` (``AdversarialStep``: simultaneous update as the official
``AdversaryCost2``, or Algorithm 1's alternating order), ``parzen.py`` (the estimator), ``evaluate.py``
(``ParzenEvaluator``), ``data.py`` (validation/test/reference images), ``deploy.py`` (sample grids),
``reference_torch.py`` (PyTorch twin of G, D and the step, for ``tools/benchmark_train.py`` and ``tools/align.py``,
which replays the suite's noise and dropout masks; both update orders align to 2e-8 in float64; imports torch).

Deviations: 300 epochs (the official config has no stopping rule); the non-saturating G loss of the
official code (``Step.generator_loss: minimax`` is Eq. 1).

Config: ``gan_mnist.yaml``. Released: test Parzen 187.2 +- 2.3 after 300 epochs (``releases/gan_mnist/``);
the same estimator scores 241.19 +- 2.13 for 10,000 real digits.
"""
