"""Tiny random Hugging Face models built from a config (no download), shared by the model tests.

Llama, Mistral, Qwen2 and GPT-NeoX (partial rotary: 8 of 16 channels) with 4 heads of |D| = 16,
hidden 64, vocabulary 300 and an original context of L = 64; initialised from seed 0, so two builds
with the same arguments hold the same weights.
"""

from __future__ import annotations

import torch
from transformers import (
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

L = 64  # original context of the tiny models
HEAD_DIM = 16

ARCHS = {
    "llama": (LlamaConfig, LlamaForCausalLM, {"num_key_value_heads": 2}),
    "mistral": (MistralConfig, MistralForCausalLM, {"num_key_value_heads": 2, "sliding_window": None}),
    "qwen2": (Qwen2Config, Qwen2ForCausalLM, {"num_key_value_heads": 2}),
    "gpt_neox": (GPTNeoXConfig, GPTNeoXForCausalLM, {}),
}


def make_config(arch: str, rope: dict | None = None, layers: int = 2):
    config_cls, _, extra = ARCHS[arch]
    rope_parameters = {"rope_type": "default", "rope_theta": 10000.0}
    if arch == "gpt_neox":
        rope_parameters["partial_rotary_factor"] = 0.5  # rotates 8 of 16 channels
    rope_parameters.update(rope or {})
    return config_cls(hidden_size=64, num_attention_heads=4, num_hidden_layers=layers, intermediate_size=128,
                      vocab_size=300, max_position_embeddings=L, initializer_range=0.1,
                      rope_parameters=rope_parameters, **extra)


def make_model(arch: str, rope: dict | None = None, layers: int = 2, state=None):
    torch.manual_seed(0)
    model = ARCHS[arch][1](make_config(arch, rope, layers)).eval()
    if state is not None:
        model.load_state_dict(state)
    return model
