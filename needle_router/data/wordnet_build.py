"""Build the vendored synonym table `synonyms.json` from a WordNet 3.0 database (a one-off step).

    python -m needle_router.data.wordnet_build [--wordnet /usr/share/wordnet] [--out PATH]

Reads WordNet's own files (Debian: `apt-get install wordnet-base wordnet-sense-index`) with a
small pure-Python reader, no nltk: `index.sense` for the sense-frequency (tag) counts, `data.noun`
/ `data.verb` for the synsets' lemmas, `verb.exc` / `noun.exc` for irregular forms. Only common
words and their frequent senses are kept, so the table is small and the swaps sound natural:

* head words: verbs and nouns tagged often enough in the sense-tagged corpus (a count over all
  senses), plus every word of the tool bank's action phrases and descriptions that WordNet tags;
* senses: the most frequent one, and up to two more when at least half as frequent; a word whose
  top sense holds under a fifth of its tagged uses keeps no synonyms (sense guessing would fail);
  senses from lexicographer files a request never means (feelings, animals, body, ...) are left
  out, as are pairs and head words found misleading when reading the generator's output;
* synonyms: the other lemmas of those synsets that are themselves frequent in that sense (tagged,
  and that synset is among their own top senses), single words or two-word phrasal verbs
  ("look up", "set up"), no proper nouns, no blocked words.

The output is deterministic (sorted), so a rebuild gives the same bytes for the same database.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

POS_CODE = {"n": "1", "v": "2"}
DATA_FILE = {"n": "data.noun", "v": "data.verb"}
# Words never offered as synonyms (offensive, or a common sense that is offensive or odd).
BLOCKED = frozenset(
    """ass bastard bitch bloody bollocks bugger bum butt cock crap damn dick fag faggot fuck hell
    jerk knocker nigger piss prick pussy screw shit slut tit twat whore bonk hump lay nooky shag
    kill murder die croak shoot slay butcher bang blow suck dope booze pot grass
    weed hooker hustler pimp tart john can toilet lavatory privy""".split()
)
PARTICLES = frozenset("up down on off out in over back away about through along around".split())
MIN_VERB_COUNT = 5
MIN_NOUN_COUNT = 5
MAX_SYNONYMS = 8
MIN_SYNONYM_COUNT = 3  # a synonym's tagged uses over all its senses
DOMINANCE = 0.2  # the top sense must hold this share of a word's tagged uses
SECOND_SENSE = 0.5  # a further sense is kept when at least this share of the top sense's count
# Lexicographer files whose senses are never what a request to a tool means (noun.feeling,
# noun.animal, noun.body, noun.phenomenon, noun.plant, noun.substance, noun.motive, noun.shape,
# noun.Tops; verb.body, verb.emotion, verb.weather): "alarm" is never "dismay" here.
SKIP_LEXFILES = {"n": {3, 5, 8, 12, 16, 19, 20, 25, 27}, "v": {29, 37, 43}}
# Pairs WordNet lists for a sense that a request never means (checked by reading the table).
BAD_PAIRS = frozenset(
    tuple(p.split(":")) for p in """get:become order:enjoin time:clip record:disc in:inch save:salvage
    reserve:appropriate make:do code:codification find:bump find:encounter find:observe find:notice
    give:yield give:afford call:name move:travel move:go screen:blind message:content score:mark
    last:conclusion last:close pause:hesitate push:force bill:measure stream:pour stream:swarm fan:lover
    arm:build_up climate:mood target:prey target:mark run:tally step:measure switch:exchange
    submit:state secure:procure flash:wink back:endorse back:support transfer:transplant roll:turn_over
    access:approach dispute:quarrel dispute:challenge set:determine pull:draw report:describe block:bar
    need:want sign:ratify credit:recognition scene:view scene:aspect limit:restrain limit:bound
    limit:confine limit:throttle rate:place class:grade class:family category:family request:petition
    branch:subdivision grade:class tell:state continue:keep mark:distinguish mark:differentiate
    job:business rule:convention collection:accumulation news:tidings news:word task:project
    play:drama run:operate check:check_out report:study skip:pass_over put:position
    place:position set:position activate:spark activate:touch_off activate:set_off advance:march_on
    advance:pass_on advance:go_on bounce:spring care:attention connect:associate connect:relate
    country:commonwealth delay:wait describe:report destination:goal draft:enlist hand:turn_over
    hand:pass_on items:details land:set_down league:conference leave:go_away portions:components
    portions:parts register:file revert:turn_back settle:decide shares:percentages slide:slip solve:lick
    spin:reel spot:place test:trial tour:circuit vote:ballot warning:admonition estimate:judge
    raise:get_up pronounce:label dispense:administer item:detail portion:component portion:part
    share:percentage back_up:support plan:program bring_back:take_back vote:voting meaning:import
    meaning:substance life:living level:degree average:norm dispense:allot process:procedure load:burden
    speed:velocity project:task category:class""".split()
)
# Head words WordNet swaps are never right for in requests (their frequent senses are elsewhere).
BAD_HEADS = frozenset("""will drive reach self hold have do be let go like want need say account expression element
    lyric lyrics host pair view style subject position stage mate couple place survey release campaign cluster
    rush starting rule rules""".split())


def read_sense_index(path: Path) -> tuple[dict[tuple[str, str], list[tuple[str, int, int]]],
                                          dict[tuple[str, str, str], tuple[int, int]]]:
    """(lemma, pos) -> [(offset, sense number, tag count)] sorted by sense number, and
    (lemma, pos, offset) -> (sense number, tag count)."""
    by_word: dict[tuple[str, str], list[tuple[str, int, int]]] = defaultdict(list)
    by_key: dict[tuple[str, str, str], tuple[int, int]] = {}
    codes = {v: k for k, v in POS_CODE.items()}
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4:
                continue
            key, offset, num, cnt = parts
            lemma, _, rest = key.partition("%")
            pos = codes.get(rest[:1])
            if pos is None:
                continue
            by_word[(lemma, pos)].append((offset, int(num), int(cnt)))
            by_key[(lemma, pos, offset)] = (int(num), int(cnt))
    for v in by_word.values():
        v.sort(key=lambda t: t[1])
    return by_word, by_key


def read_synsets(path: Path, wanted: set[str]) -> dict[str, tuple[int, list[str]]]:
    """offset -> (lexicographer file number, lemmas lower-case with underscores), for `wanted`."""
    out: dict[str, tuple[int, list[str]]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):
                continue  # the licence header
            offset = line[:8]
            if offset not in wanted:
                continue
            parts = line.split(" ", 4 + 2 * 40)
            n = int(parts[3], 16)
            out[offset] = (int(parts[1]), [parts[4 + 2 * i].lower() for i in range(n)])
    return out


def read_exceptions(path: Path) -> dict[str, list[str]]:
    """base -> irregular inflected forms (from a WordNet *.exc file)."""
    out: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                for base in parts[1:]:
                    out[base].append(parts[0])
    return out


def bank_words() -> set[str]:
    """Lower-case words of the tool bank's action phrases, descriptions and parameter phrases."""
    from needle_router.data.toolbank import load_bank

    words: set[str] = set()
    for t in load_bank().tools:
        texts = [t.description, t.name.replace("_", " ")] + [a.text for a in t.actions]
        for p in t.params:
            texts.extend(p.phrases)
        for text in texts:
            words.update(w.lower() for w in re.findall(r"[A-Za-z]+", re.sub(r"\{\w+\}", " ", text)))
    return words


def _usable(lemma: str, pos: str) -> bool:
    if not re.fullmatch(r"[a-z]+(?:[_-][a-z]+)?", lemma):
        return False
    parts = re.split(r"[_-]", lemma)
    if any(p in BLOCKED for p in parts):
        return False
    if len(parts) == 2 and pos == "v":
        return "_" in lemma and parts[1] in PARTICLES  # phrasal verbs only
    return len(parts) == 1 or (pos == "n" and "-" in lemma)


def build(wordnet: Path) -> dict[str, object]:
    by_word, by_key = read_sense_index(wordnet / "index.sense")
    extra = bank_words()
    totals = {k: sum(c for _, _, c in v) for k, v in by_word.items()}
    heads: dict[str, list[str]] = {"n": [], "v": []}
    for (lemma, pos), total in totals.items():
        if not _usable(lemma, pos) or lemma in BLOCKED or lemma in BAD_HEADS:
            continue
        floor = MIN_VERB_COUNT if pos == "v" else MIN_NOUN_COUNT
        if total >= floor or (lemma in extra and total >= 3):
            heads[pos].append(lemma)
    table: dict[str, dict[str, list[str]]] = {"n": {}, "v": {}}
    for pos in ("n", "v"):
        senses: dict[str, list[str]] = {}
        for lemma in heads[pos]:
            ranked = sorted(by_word[(lemma, pos)], key=lambda t: (-t[2], t[1]))
            total = totals[(lemma, pos)]
            top = ranked[0][2]
            if top == 0 or top < DOMINANCE * total:
                continue
            senses[lemma] = [off for off, _, c in ranked[:3] if c >= max(2, SECOND_SENSE * top)]
        synsets = read_synsets(wordnet / DATA_FILE[pos], {o for v in senses.values() for o in v})
        for lemma, offs in senses.items():
            syns: list[str] = []
            for off in offs:
                lexfile, lemmas = synsets.get(off, (0, []))
                if lexfile in SKIP_LEXFILES[pos]:
                    continue
                for other in lemmas:
                    if other == lemma or not _usable(other, pos) or (lemma, other) in BAD_PAIRS or other in BAD_HEADS:
                        continue
                    num_cnt = by_key.get((other, pos, off))
                    if num_cnt is None or num_cnt[1] < 1 or totals.get((other, pos), 0) < MIN_SYNONYM_COUNT:
                        continue  # never tagged in this sense, or rare overall: odd
                    own = sorted(by_word[(other, pos)], key=lambda t: (-t[2], t[1]))
                    rank = [o for o, _, _ in own].index(off)
                    if rank > 2:
                        continue  # not one of the synonym's own main senses
                    word = other.replace("_", " ")
                    if word not in syns:
                        syns.append(word)
            if syns:
                table[pos][lemma.replace("_", " ")] = syns[:MAX_SYNONYMS]
    irregular: dict[str, dict[str, list[str]]] = {"n": {}, "v": {}}
    for pos, fname in (("n", "noun.exc"), ("v", "verb.exc")):
        exc = read_exceptions(wordnet / fname)
        needed = set(table[pos]) | {s.split()[0] for v in table[pos].values() for s in v}
        for base in sorted(needed):
            if base in exc:
                irregular[pos][base] = sorted(set(exc[base]))
    return {
        "source": "WordNet 3.0 (Princeton University); see WORDNET_LICENSE",
        "n": dict(sorted(table["n"].items())),
        "v": dict(sorted(table["v"].items())),
        "irregular": irregular,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("synonyms.json"))
    args = ap.parse_args(argv)
    table = build(args.wordnet)
    text = json.dumps(table, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    n, v = table["n"], table["v"]
    assert isinstance(n, dict) and isinstance(v, dict)
    print(f"{args.out}: {len(v)} verbs, {len(n)} nouns, {len(text) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
