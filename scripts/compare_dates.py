"""Score the date readers on tests/data/date_phrases.json and print the table README.md quotes.

    python scripts/compare_dates.py [--wrong]   # --wrong lists every wrong answer by reader

dateparser must be installed for its rows (`pip install needle-router[dates]`); without it only
the strict reader is scored.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from needle_router.eval.date_bench import READERS, best, load_corpus, score, table

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "date_phrases.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--wrong", action="store_true", help="list the wrong answers")
    args = parser.parse_args()
    corpus = load_corpus(args.corpus)
    have_dateparser = importlib.util.find_spec("dateparser") is not None
    names = [n for n in READERS if have_dateparser or "dateparser" not in n]
    scores = [score(name, READERS[name], corpus) for name in names]
    print(f"{len(corpus)} phrases, {sum(p.want is None for p in corpus)} of them must not give a value\n")
    print(table(scores))
    print(f"\nfewest wrong, then most correct: {best(scores).reader}")
    if args.wrong:
        for s in scores:
            print(f"\n{s.reader}: {s.wrong} wrong")
            for phrase, answer in s.wrong_phrases:
                print(f"  {phrase.text!r} ({phrase.kind}, today {phrase.today}): {answer} (right: {phrase.want})")


if __name__ == "__main__":
    main()
