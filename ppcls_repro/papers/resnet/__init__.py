"""Paper card: ResNet and SENet (image classification).

- ResNet: He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
  https://arxiv.org/abs/1512.03385. Used: ImageNet nets 18-152 (Table 1, option B shortcuts, 10-crop
  testing, Table 3 top-1 error 24.52 / 22.85 / 21.75 / 21.43% for 34/50/101/152) and CIFAR-10 nets 6n+2
  (Section 4.2, option A shortcuts, Table 6: 8.75 / 7.51 / 7.17 / 6.97 / 6.43% for 20-110).
- SENet: Hu, Shen, Sun, "Squeeze-and-Excitation Networks", CVPR 2018, https://arxiv.org/abs/1709.01507.
  Used: the SE block with r = 16 on every residual branch (SE-ResNet-50: 23.29 / 6.62% top-1/top-5 error).

Files: ``resnet.py``, ``senet.py``, ``se.py`` (models), ``cifar.py``, ``imagenet.py`` (data; MNIST is the
shared ``ppcls_repro/data/mnist.py``), ``evaluate.py`` (top-k, 10-crop), ``deploy.py`` (classification pipeline).

Deviations: ``resnet20_mnist.yaml`` is not in the paper (the one run that fits a CPU: MNIST padded to
32x32, 5 epochs, cosine lr); the SE block is kept at r = 16 on the narrow CIFAR blocks.

Configs: ``resnet{20,32,44,56,110}_cifar10.yaml``, ``se_resnet110_cifar10.yaml``,
``resnet{18,34,50}_imagenet.yaml``, ``se_resnet50_imagenet.yaml``, ``resnet20_mnist.yaml``.
Released: ResNet-20 on MNIST 99.56% top-1 (``releases/resnet20_mnist/``); CIFAR-10 and ImageNet not run here.
"""
