"""Training: one loop (:mod:`.loop`) for pretraining tiny models and fine-tuning extended ones.

- :mod:`.config`: the validated :class:`~yarnlab.train.config.TrainConfig` (paper defaults).
- :mod:`.loop`: :func:`~yarnlab.train.loop.train`, held-out bits per byte, metrics, final save.
- :mod:`.checkpoint`: atomic, resumable checkpoints with optimizer, scheduler and RNG state.
- :mod:`.distributed`: torch.distributed (gloo on CPU, NCCL on GPU), DDP or FSDP2.
- :mod:`.recipes`: ``pretrain`` and ``finetune`` from a corpus name to a trained checkpoint.
- :mod:`.cli`: ``yarnlab train pretrain|finetune`` (also ``python -m yarnlab.train``).

Submodules are not imported here, so ``import yarnlab.train.cli`` stays light.
"""
