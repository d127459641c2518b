"""Paper card: DSCMR (Zhen, Hu, Wang, Peng, "Deep Supervised Cross-Modal Retrieval", CVPR 2019,
https://openaccess.thecvf.com/content_CVPR_2019/html/Zhen_Deep_Supervised_Cross-Modal_Retrieval_CVPR_2019_paper.html).

Used: the two-branch network and shared layers (Section 3), J = J1 + 1e-3 J2 + 1e-1 J3 as the official
code normalises it, mAP@all with cosine similarity (Pascal Sentence: 0.710 / 0.722 / 0.716).

Files: ``model.py``, ``loss.py``, ``step.py`` (``RetrievalStep``), ``data.py`` (official feature files,
validation carved per class), ``metrics.py`` (mAP), ``evaluate.py``, ``deploy.py`` (one model per modality).

Deviations: ``best_model`` is chosen on a validation split of the training pairs (12.5% per class), not
on the test mAP as the official loop does.

Configs: ``dscmr_pascal.yaml``, ``dscmr_synthetic.yaml``. Released: synthetic features only.
"""
