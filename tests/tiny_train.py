"""The tiny training setting shared by the training tests and the conftest fixtures (no torch needed to
import it): eight short English documents and a one-layer micro Llama with a 32-token context."""

TEXT = [(f"Document {i}: " + "the quick brown fox jumps over the lazy dog. " * (20 + 3 * i)).encode()
        for i in range(8)]
SMALL = {"preset": "micro", "num_hidden_layers": 1, "max_position_embeddings": 32}
