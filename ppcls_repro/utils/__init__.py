"""The bottom layer, imported by everything and importing no other part of the package but the
registry: logging, the export spec models state, errors, atomic writes, image files, eval_mode."""
