"""Run an exported model on real files with Paddle Inference.

The command lives in ``ppcls_repro/commands/infer.py`` (also the ``ppcls-repro-infer`` entry point); ``--help`` for its options.
"""
from ppcls_repro.commands.infer import main

if __name__ == "__main__":
    main()
