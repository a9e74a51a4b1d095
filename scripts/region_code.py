"""Look up Kemendagri region codes by name, for people labelling articles.

Usage: python scripts/region_code.py "Sukabumi" ["Kota Jambi" ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.gazetteer import Gazetteer


def main() -> None:
    gazetteer = Gazetteer.from_directory()
    for name in sys.argv[1:]:
        places = gazetteer.by_name(name)
        if not places:
            print(f"{name}: not found (try the bare name without Kab./Kota/Kec.)")
        for place in places[:12]:
            lineage = " < ".join(p.name for p in gazetteer.ancestors(place))
            print(f"{name}: {place.code}\t{place.name}\t{lineage}")


if __name__ == "__main__":
    main()
