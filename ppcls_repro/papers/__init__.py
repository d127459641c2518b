"""The papers: one folder per paper family, each holding that paper's model, data, step, evaluator,
metrics and export pipeline. Its ``__init__`` docstring is the paper card. Code below ``papers/``
is paper-free; no paper imports another (``tests/test_layout.py``)."""
