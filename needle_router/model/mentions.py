"""Enum members the request names word for word: a prior for the option choice.

The decoder picks an enum option by pointing at the option's pooled encoder states, and it often
points at the wrong one even when the user wrote the member itself ("show me closed issues" ->
state="open"; on the written data's held-out toolsets, 89 of the wrong option choices of the
default model named the right member and no other). When a request names exactly one member of
the enum, word for word (case, "_" and "-" aside, whole words only), that member gets
`OPTION_PRIOR` added to its logit, as the retrieval prior is added to the tool choice; when it
names several ("from unpaid to study leave") or none, nothing changes. Measured on those held-out
toolsets, the member named alone was the gold value for 173 of 176 arguments.

The same mention says the argument is wanted at all: the key step of an enum parameter whose
member the request names alone gets `KEY_PRIOR` (the model had left 25 such arguments out on
those toolsets, and 2 of the named ones were not in the gold call).

Only members with a letter in them are read: a number ("2", "10") is named by counts, dates and
amounts that say nothing about the choice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

OPTION_PRIOR = 4.0  # logits; chosen on the written data's held-out toolsets (README, "Approaches")
KEY_PRIOR = 2.0  # logits for producing an enum argument whose member the request names

_SEP = re.compile(r"[\s_\-]+")


def _words(text: str) -> str:
    return " " + _SEP.sub(" ", text.lower()).strip() + " "


def named_option(values: Sequence[Any], request: str) -> int | None:
    """The index of the one member of `values` that `request` names word for word, if exactly
    one is named; else None."""
    text = _words(request)
    hits = [i for i, v in enumerate(values)
            if isinstance(v, str) and any(c.isalpha() for c in v)
            and re.search(r"(?<!\w)" + re.escape(_words(v).strip()) + r"(?!\w)", text)]
    return hits[0] if len(hits) == 1 else None


def option_prior(n_options: int, named: int | None, strength: float = OPTION_PRIOR) -> list[float] | None:
    """Logit offsets for an enum's `n_options` options: `strength` for the member the request
    names alone (`named`, from `named_option`), 0 for the rest; None when it names none."""
    if named is None or not strength:
        return None
    return [strength if j == named else 0.0 for j in range(n_options)]


def key_prior(named: Sequence[int | None], strength: float = KEY_PRIOR) -> list[float] | None:
    """Logit offsets for a key step's parameters, given each one's `named_option` (None for a
    parameter that is not an enum or whose members the request does not name alone): `strength`
    for a named one, 0 for the rest; None if none is named."""
    out = [0.0 if i is None else strength for i in named]
    return out if strength and any(out) else None
