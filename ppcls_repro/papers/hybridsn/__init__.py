"""Paper card: HybridSN (Roy, Krishna, Dubey, Chaudhuri, "HybridSN: Exploring 3-D-2-D CNN Feature
Hierarchy for Hyperspectral Image Classification", IEEE GRSL 2019, https://arxiv.org/abs/1902.06701).

Used: the network of Section 2 (three 3-D convolutions, one 2-D, two dense layers), PCA to 30 (IP) or 15
components, 25x25 windows, random 30/70 split, OA / AA / Kappa (Indian Pines: 99.75 / 99.63 / 99.71).

Files: ``model.py``, ``data.py`` (MATLAB readers, PCA, windows, random and disjoint splits, synthetic
cube), ``metrics.py`` (OA, AA, Kappa), ``evaluate.py`` (evaluator and the maps of ``tools/hsi_map.py``),
``deploy.py`` (cube -> classification map).

Checked against the official Keras model (a fixture computed with the authors' code in its layer order;
``tests/papers/hybridsn/test_reference.py``): with its weights relabelled, this model gives its logits
(1e-6). The one difference is an ordering: the 3-D features fold into 2-D channels channel-major
(c*18 + d, Paddle's NCDHW) and flatten NCHW, as the PyTorch port the official README links; Keras folds
depth-major (d*32 + c) and flattens channels-last. Trained from scratch the two are the same model; only
weights moved between them need the two permutations (in the test). ``tools/align.py`` aligns both configs
with this project's PyTorch twin (``reference_torch.py``; forward 3.3e-7, backward and five Adam steps
within 1e-9 in float64, dropout off on both sides: README "Alignment").

Deviations: none in ``hybridsn_ip.yaml``; the cube is not on the machine the results were made on, so
``hybridsn_ip_synthetic.yaml`` runs on a seeded synthetic cube laid on the real label map (labelled).

Configs: ``hybridsn_ip.yaml``, ``hybridsn_ip_synthetic.yaml``. Released: synthetic-data runs only.
"""
