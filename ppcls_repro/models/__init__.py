"""One module per paper; each registers its models in ``ppcls_repro.registry.MODELS``."""
