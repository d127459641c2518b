"""The four commands, each a ``main(argv=None)``: what ``tools/train.py``, ``tools/eval.py``,
``tools/export_model.py`` and ``tools/infer.py`` run, and the ``ppcls-repro-train``, ``-eval``,
``-export`` and ``-infer`` entry points of ``pyproject.toml`` (so both spellings are one code path).
Each parses its arguments, builds and calls; user errors end in one line (``ppcls_repro/cli.py``).
"""
