"""Text encoders for class descriptions, discovered through ``zsl_toolkit.text_encoders``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

from zsl_toolkit.errors import MissingDependency
from zsl_toolkit.registry import GROUPS, Registry

GROUP = GROUPS["text-encoders"]
DEFAULT = "wordllama"


class TextEncoder(ABC):
    """Texts -> fixed-size vectors; ``dim`` is the vector size."""

    name: ClassVar[str]
    dim: ClassVar[int]
    citation: ClassVar[str]

    @abstractmethod
    def encode(self, texts: list[str]) -> np.ndarray:
        """[len(texts), dim] float32, one row per text."""


class WordLlamaEncoder(TextEncoder):
    """WordLlama ``l2_supercat`` 256-d static token embeddings, average-pooled.

    Miller, WordLlama (2024): token embeddings taken from a large language model's input
    layer and trained for sentence similarity. The ``wordllama`` wheel (MIT) carries the
    256-d weights and the tokenizer; the library looks for the tokenizer in a folder name
    that differs from the one it ships, so it is pointed at its own package folder and
    downloads are disabled: loading never touches the network.
    """

    name = "wordllama"
    dim = 256
    citation = "Miller. WordLlama: recycled token embeddings from LLMs. 2024."

    def encode(self, texts: list[str]) -> np.ndarray:
        try:
            import wordllama
            from wordllama import WordLlama
        except ModuleNotFoundError:
            raise MissingDependency(
                "text encoder 'wordllama' needs: pip install wordllama"
            ) from None
        model = WordLlama.load(
            cache_dir=Path(wordllama.__file__).parent, dim=self.dim, disable_download=True
        )
        return np.asarray(model.embed(list(texts)), dtype=np.float32)


def text_encoder_registry() -> Registry:
    return Registry(GROUP, TextEncoder, "text encoders")


def get_text_encoder(name: str) -> TextEncoder:
    return text_encoder_registry().load(name)()
