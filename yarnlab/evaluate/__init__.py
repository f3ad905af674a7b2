"""Evaluation (torch): what the paper measures, on any model the model layer produces.

- :mod:`~yarnlab.evaluate.perplexity`: sliding-window perplexity (Press et al.), token- or
  window-weighted, the paper's truncate-to-length protocol, per-document and per-segment losses.
- :mod:`~yarnlab.evaluate.sweep`: perplexity over a grid of attention factors m = sqrt(1/t)
  (Appendix A.2, Figs. 2-4) and the bootstrap argmin.
- :mod:`~yarnlab.evaluate.passkey`: passkey retrieval scoring (prompts: :mod:`yarnlab.data.passkey`).
- :mod:`~yarnlab.evaluate.entropy`: per-layer attention entropy from a real forward pass.
- :mod:`~yarnlab.evaluate.positions`: per-position NLL profile, context use (full context vs the
  last K tokens) and the sliding-window baseline (windows of L, stride L/2).
- :mod:`~yarnlab.evaluate.logits`: spread of the real pre-softmax attention logits per layer and
  head, and the entropy-invariant m* it predicts (:mod:`yarnlab.theory.entropy`).
- :mod:`~yarnlab.evaluate.lmeval`: lm-evaluation-harness hook (GPU machines, optional).
- :mod:`~yarnlab.evaluate.session`: the evaluation session every ``yarnlab eval`` command shares
  (options, model set-up, documents, provenance record, output);
  :mod:`~yarnlab.evaluate.cli`: ``yarnlab eval ppl|sweep|passkey|entropy``;
  :mod:`~yarnlab.evaluate.cli_regime`: ``yarnlab eval positions|context-use|logit-spread|induction``;
  :mod:`~yarnlab.evaluate.cli_scaling`: ``yarnlab eval dynamic|ablation``;
  :mod:`~yarnlab.evaluate.cli_docs`: ``yarnlab eval docs``.

Evaluators take a model and a list of token-id documents (1-D arrays/tensors), so they work with
any tokenizer.
"""
