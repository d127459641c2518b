"""Paper card: SRCNN and FSRCNN (super-resolution).

- SRCNN: Dong, Loy, He, Tang, "Image Super-Resolution Using Deep Convolutional Networks", ECCV 2014 /
  TPAMI 2016, https://arxiv.org/abs/1501.00092. Used: the 9-1-5 net (Sections 3-4), T91 33x33 sub-images
  with 21x21 labels, stride 14, Set5 x3 Y-channel PSNR (Table 1: 32.39 dB; bicubic 30.39).
- FSRCNN: Dong, Loy, Tang, "Accelerating the Super-Resolution Convolutional Neural Network", ECCV 2016,
  https://arxiv.org/abs/1608.00367. Used: FSRCNN (56,12,4) and FSRCNN-s (32,5,1) (Section 3), T91 with
  rotations and scalings, x2/x4 by retraining the deconvolution of the x3 model (Table 3: 33.06 / 32.55 dB x3).

Files: ``srcnn.py``, ``fsrcnn.py`` (models), ``protocol.py`` (the MATLAB-exact test protocol: Y, modcrop,
bicubic, uint8 rounding, shave), ``datasets.py`` (SRCNN sub-images, SR test folders), ``fsrcnn_data.py``,
``evaluate.py`` (PSNR/SSIM of model and bicubic), ``deploy.py`` (inference pipeline), ``speed.py`` (the
FSRCNN speed claim), ``manifests.py`` (T91/Set5 sources).

Deviations (each repeated in its config header): Adam instead of SGD, He init instead of Gaussian 0.001,
SRCNN's last layer at the full rate, two stages of ~250 epochs (~1.1e7 back-propagations against the
paper's ~8e8); FSRCNN labels 20/21/24 px where Caffe cropped to 19/19/21, Adam for 100 epochs at x3 (/10 at 80; the paper's
Caffe SGD gives no iteration count; FSRCNN-s: two such stages), no General-100.

Configs: ``srcnn.yaml`` (x3), ``srcnn_x2.yaml``, ``srcnn_x4.yaml`` (not trained yet), ``fsrcnn_x{2,3,4}.yaml``,
``fsrcnn_s_x{2,3,4}.yaml``, ``fsrcnn_x3_general100.yaml``.
Released (``releases/``, Set5): SRCNN x3 32.38 dB; FSRCNN x3 33.03 (100 epochs; 30 epochs: 32.59), x2 36.96, x4 30.55
(transferred from the 100-epoch x3; from the 30-epoch one: 36.57, 30.15); FSRCNN-s x3 32.33 (two stages of 100 epochs;
one stage: 32.24; 30 epochs: 32.13), x2 36.41, x4 29.75 dB (from the two-stage x3; from the one-stage x3: 36.37, 29.75).

Authors' weights: ``weights.py`` converts their released MATLAB models (SRCNN ``x2/x3/x4.mat`` of any
filter sizes, FSRCNN and FSRCNN-s) for ``tools/import_weights.py``; their x3 files score Set5
32.3897 (SRCNN 9-1-5), 33.1554 (FSRCNN) and 32.6040 (FSRCNN-s) here, with their edge-replicating test
padding (README, "The authors' weights"). Gray images are read as MATLAB reads them (one plane = Y).
"""
