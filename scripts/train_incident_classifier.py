"""Train the incident classifier (models/incident-classifier/model.json).

    .venv/bin/python scripts/train_incident_classifier.py --data-dir ../shared/data
    # the same as: pantau train tagger --shared-data ../shared/data

The training itself is nlp/classifier_training.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.classifier import DEFAULT_MODEL_DIR
from nlp.classifier_training import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args()
    train(args.data_dir, args.out)


if __name__ == "__main__":
    main()
