"""Train as a config says: ``python tools/train.py -c configs/srcnn.yaml [-o KEY=VALUE ...]``

The command lives in ``ppcls_repro/commands/train.py`` (also the ``ppcls-repro-train`` entry point); ``--help`` for its options.
"""
from ppcls_repro.commands.train import main

if __name__ == "__main__":
    main()
