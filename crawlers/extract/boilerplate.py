"""What news pages add around an article that is not the article: promotion, credits and
teasers for other articles. Plain patterns (no HTML parser), so the tagger can read them
too without loading the crawler's."""

from __future__ import annotations

import re

# The words that lead a teaser for another article: "Baca juga: …", "Simak juga Video '…'",
# "Tonton juga video "…" di sini".
TEASER_LEAD = r"(?:baca|simak|tonton|lihat|saksikan) juga"

# Paragraphs that are navigation, promotion or credits, not article text.
NOISE_PARAGRAPH = re.compile(
    rf"^\s*(?:{TEASER_LEAD}|cek berita dan artikel|simak breaking news|simak berita|"
    r"editor\s*:|sumber\s*:|pewarta\s*:|copyright|laporan wartawan|dapatkan update|"
    r"ikuti (?:kami|berita)|bagikan\s*:)",
    re.IGNORECASE,
)
