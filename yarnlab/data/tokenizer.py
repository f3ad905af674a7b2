"""Byte-level tokenizer: token = byte value (0..255), plus BOS = 256, EOS = 257, PAD = 258.

Bits per byte follow directly from the per-token loss: bpb = (mean nats per byte target) / ln 2.
"""

from __future__ import annotations

BYTE_VOCAB = 256
BOS_ID, EOS_ID, PAD_ID = 256, 257, 258
VOCAB_SIZE = 259


class ByteTokenizer:
    """UTF-8 bytes in, token ids out; ``decode(encode(s)) == s`` for every str ``s``."""

    bos_id, eos_id, pad_id, vocab_size = BOS_ID, EOS_ID, PAD_ID, VOCAB_SIZE

    def encode(self, text: str | bytes, bos: bool = False, eos: bool = False) -> list[int]:
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        return ([BOS_ID] if bos else []) + list(data) + ([EOS_ID] if eos else [])

    def decode(self, ids, errors: str = "replace") -> str:
        """Bytes back to text; special tokens are dropped."""
        return bytes(int(i) for i in ids if 0 <= int(i) < BYTE_VOCAB).decode("utf-8", errors=errors)
