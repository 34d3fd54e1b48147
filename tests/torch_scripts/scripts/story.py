"""A small made-up text for the character-level language models (the lecture uses Tiny
Shakespeare; this writes simple sentences from a little grammar, so nothing is downloaded)."""

import random

SUBJECTS = ["the cat", "a dog", "the old king", "my friend", "the queen", "a small bird", "the farmer"]
VERBS = ["sees", "likes", "finds", "follows", "calls", "helps", "watches"]
OBJECTS = ["the moon", "a red apple", "the river", "her brother", "the green hill", "a quiet house"]
ENDINGS = [".", ".", "!", " at night.", " in the morning.", " again."]


def make_text(sentences=400, seed=1337):
    rng = random.Random(seed)
    lines = []
    for _ in range(sentences):
        lines.append(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(ENDINGS)}")
    return "\n".join(lines) + "\n"
