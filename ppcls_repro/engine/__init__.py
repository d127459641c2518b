"""The training loop (``trainer.py``, written once), what it asks of a training step (the ``Step``
protocol and ``SupervisedStep`` in ``steps.py``) and of an evaluator (the ``Evaluator`` protocol in
``evaluate.py``), optimizers and schedules, checkpoints, run set-up and multi-process helpers."""
