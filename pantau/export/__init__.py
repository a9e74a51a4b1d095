"""Research datasets: reproducible, documented, protected exports of the store
(`pantau export`), and the annotation round trip with Label Studio (`pantau annotate`).

- `labels.effective_labels`: every tagged article with analysts' corrections and imported
  gold annotations applied, with provenance — what training and exports read.
- `dataset`: filters, story-cluster splits, masking, the records of an export.
- `writers`: JSONL, CSV, Parquet, CoNLL, spaCy DocBin, a Hugging Face dataset folder.
- `datasheet`: the README.md of an export.
- `annotate`: Label Studio tasks out (ordered by model uncertainty), annotations in.
- `requests`: export requests of the web app, run by the `export` flow.

See docs/datasets.md.
"""
