"""The training loop, its steps, evaluation, checkpoints and logging."""
