"""The papers: one folder per paper family, each holding that paper's model, data, step, evaluator,
metrics and export pipeline. Its ``__init__`` docstring is the paper card. A paper whose iteration
differs writes a step class following ``engine.steps.Step``; an evaluator follows
``engine.evaluate.Evaluator``; a dataset whose inference preprocessing is its own states it
(``inference_facts``, ``utils/spec.py``). Code below ``papers/`` is paper-free; no paper imports
another (``tests/test_layout.py``)."""
