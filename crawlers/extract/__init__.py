"""Pure extraction: HTML of one page in, the article's parts out. No I/O here, so every
layout is covered by saved-page tests."""
