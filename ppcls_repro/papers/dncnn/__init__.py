"""Paper card: DnCNN (Zhang, Zuo, Chen, Meng, Zhang, "Beyond a Gaussian Denoiser: Residual Learning of
Deep CNN for Image Denoising", IEEE TIP 2017, https://arxiv.org/abs/1608.03981).

Used: DnCNN-S and DnCNN-B (Section III), residual learning, Train400 40x40 patches (Section IV-A),
Set12 / BSD68 PSNR (Table II-III; DnCNN-S sigma 25: 30.43 dB on Set12, 29.23 on BSD68), following the
authors' PyTorch training code and MATLAB test code.

Files: ``model.py``, ``data.py`` (patches, noisy test folders), ``loss.py`` (summed squared error / 2),
``evaluate.py`` (PSNR/SSIM as ``Demo_test_DnCNN.m``), ``deploy.py`` (denoising pipeline, tiled).

Deviations: the released run is 2,000 iterations of batch 32 (0.15% of the paper's patches), Adam x0.2 at
iterations 1,400 and 1,800.

Configs: ``dncnn_s{15,25,50}.yaml``, ``dncnn_b.yaml``, ``dncnn_s25_plain.yaml``.
Released: DnCNN-S sigma 25, Set12 28.35 dB on that shortened schedule (``releases/dncnn_s25/``).
The paper's own setting (batch 128, its Adam schedule) ran 2,013 of its 335,160 iterations over three
sessions: Set12 28.76 dB, still rising (``releases/dncnn_s25_paper/``, best weights and curve).

Authors' weights: ``weights.py`` converts their MatConvNet models (BatchNorm merged) and their
PyTorch module or state dict for ``tools/import_weights.py``; sigma 25 scores Set12 30.4504
(MatConvNet) and 30.4617 (PyTorch) here (README, "The authors' weights").
"""
