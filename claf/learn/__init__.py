"""Training: the trainer loop, optimizers, LR schedulers, checkpoints, logging."""
