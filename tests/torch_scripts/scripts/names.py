"""A made-up list of names (the tutorials read names.txt; this writes a similar list, so the
scripts need no download). Plain Python: identical under PyTorch and under chainrule."""

import random

ONSETS = ["", "b", "br", "c", "ch", "d", "el", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s",
          "sh", "t", "th", "v", "w", "z"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ia", "ee", "y"]
CODAS = ["", "", "n", "l", "r", "s", "th", "x", "nna", "lla", "ra", "ley", "son", "ie"]


def make_names(count=2000, seed=42):
    rng = random.Random(seed)
    names = []
    for _ in range(count):
        syllables = rng.choice([1, 2, 2, 3])
        name = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables))
        names.append(name + rng.choice(CODAS))
    return names
