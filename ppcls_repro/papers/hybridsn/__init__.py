"""Paper card: HybridSN (Roy, Krishna, Dubey, Chaudhuri, "HybridSN: Exploring 3-D-2-D CNN Feature
Hierarchy for Hyperspectral Image Classification", IEEE GRSL 2019, https://arxiv.org/abs/1902.06701).

Used: the network of Section 2 (three 3-D convolutions, one 2-D, two dense layers), PCA to 30 (IP) or 15
components, 25x25 windows, random 30/70 split, OA / AA / Kappa (Indian Pines: 99.75 / 99.63 / 99.71).

Files: ``model.py``, ``data.py`` (MATLAB readers, PCA, windows, random and disjoint splits, synthetic
cube), ``metrics.py`` (OA, AA, Kappa), ``evaluate.py`` (evaluator and the maps of ``tools/hsi_map.py``),
``deploy.py`` (cube -> classification map).

Deviations: none in ``hybridsn_ip.yaml``; the cube is not on the machine the results were made on, so
``hybridsn_ip_synthetic.yaml`` runs on a seeded synthetic cube laid on the real label map (labelled).

Configs: ``hybridsn_ip.yaml``, ``hybridsn_ip_synthetic.yaml``. Released: synthetic-data runs only.
"""
