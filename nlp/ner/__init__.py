"""Indonesian named-entity recognition: a trained spaCy pipeline (shipped in
models/ner-id/model) and an optional transformers back end.

    from nlp.ner import load_recognizer, recognize
    entities = recognize(title, text)   # list[pantau.models.Entity], offsets into each field
"""

import sys


def _import_spacy_without_torch() -> None:
    """Import spaCy once with PyTorch hidden, unless PyTorch is loaded already.

    spaCy's thinc imports PyTorch whenever it is installed (the optional `transformers`
    extra), which costs seconds and ~500 MB per process although the spaCy NER never uses
    it. The transformers back end imports PyTorch itself and works the same afterwards."""
    if "spacy" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` fails inside
    try:
        import spacy  # noqa: F401
    finally:
        del sys.modules["torch"]


_import_spacy_without_torch()

from nlp.ner.recognizer import (  # noqa: E402
    SHIPPED_MODEL_DIR,
    NerModelError,
    Recognizer,
    default_recognizer,
    load_recognizer,
    recognize,
    with_model_spans,
)

__all__ = [
    "SHIPPED_MODEL_DIR",
    "NerModelError",
    "Recognizer",
    "default_recognizer",
    "load_recognizer",
    "recognize",
    "with_model_spans",
]
