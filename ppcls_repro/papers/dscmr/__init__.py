"""Paper card: DSCMR (Zhen, Hu, Wang, Peng, "Deep Supervised Cross-Modal Retrieval", CVPR 2019,
https://openaccess.thecvf.com/content_CVPR_2019/html/Zhen_Deep_Supervised_Cross-Modal_Retrieval_CVPR_2019_paper.html).

Used: the two-branch network and shared layers (Section 3), J = J1 + 1e-3 J2 + 1e-1 J3 as the official
code normalises it, mAP@all with cosine similarity (Pascal Sentence: 0.710 / 0.722 / 0.716).

Files: ``model.py``, ``loss.py``, ``step.py`` (``RetrievalStep``), ``data.py`` (official feature files,
validation carved per class), ``metrics.py`` (mAP), ``evaluate.py``, ``deploy.py`` (one model per modality).

Checked against the authors' code (penghu-cs/DSCMR ``IDCM_NN``, ``calc_loss``, ``fx_calc_map_label``; a
fixture computed with the authors' code, ``tests/papers/dscmr/test_reference.py``): on the same weights and inputs
the features, predictions, J1/J2/J3 and the total, every gradient and the mAP are the official ones
(float32 tolerances: 1e-5 forward, 1e-4 gradients, mAP 1e-9).

Deviations: ``best_model`` is chosen on a validation split of the training pairs (12.5% per class), not
on the test mAP as the official loop does.

Configs: ``dscmr_pascal.yaml``, ``dscmr_synthetic.yaml``. Released: synthetic features only.
"""
