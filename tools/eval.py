"""Evaluate weights: ``python tools/eval.py -c configs/srcnn.yaml -o Global.pretrained_model=PATH``

The command lives in ``ppcls_repro/commands/eval.py`` (also the ``ppcls-repro-eval`` entry point); ``--help`` for its options.
"""
from ppcls_repro.commands.eval import main

if __name__ == "__main__":
    main()
