"""Export for deployment: ``python tools/export_model.py -c configs/srcnn.yaml -o Global.pretrained_model=PATH``

The command lives in ``ppcls_repro/commands/export.py`` (also the ``ppcls-repro-export`` entry point); ``--help`` for its options.
"""
from ppcls_repro.commands.export import main

if __name__ == "__main__":
    main()
