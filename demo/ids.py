"""Identifier factories: USCCs, 注册号 and citizen IDs, unique and with valid check characters.

Check characters come from :mod:`riskgraph.identifiers`; a generated USCC never also reads as a
valid citizen ID and vice versa, so a column holding either is never ambiguous.
"""

from __future__ import annotations

import random
from datetime import date

from riskgraph.identifiers import (
    USCC_ALPHABET,
    id_check_char,
    is_valid_citizen_id,
    is_valid_uscc,
    regno_check_digit,
    uscc_check_char,
)

_ORG_CHARS = USCC_ALPHABET[10:]


class IdFactory:
    """Makes unique identifiers from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def uscc(self, prefix2: str, division: str, founded: date) -> str:
        """A USCC: registration-department + type code, division, 9-char body, check char."""
        rng = self.rng
        while True:
            if founded.year >= 2016:
                body = "MA" + "".join(rng.choices(USCC_ALPHABET, k=7))
                if rng.random() < 0.5:
                    body = body[:3] + rng.choice(_ORG_CHARS) + body[4:]
            else:
                body = f"{rng.randrange(10**7, 10**8)}" + rng.choice(USCC_ALPHABET)
            first17 = prefix2 + division + body
            code = first17 + uscc_check_char(first17)
            if code in self.used or is_valid_citizen_id(code):
                continue
            self.used.add(code)
            return code

    def regno(self, division: str) -> str:
        """A 15-digit 注册号 with its MOD 11,10 check digit."""
        while True:
            first14 = division + f"{self.rng.randrange(10**7, 10**8)}"
            code = first14 + regno_check_digit(first14)
            if code not in self.used:
                self.used.add(code)
                return code

    def citizen(self, prefix: str, birth: date, male: bool) -> str:
        """A citizen ID issued at ``prefix`` for a person born on ``birth``."""
        rng = self.rng
        while True:
            seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
            first17 = f"{prefix}{birth:%Y%m%d}{seq:03d}"
            code = first17 + id_check_char(first17)
            if code in self.used or is_valid_uscc(code):
                continue
            self.used.add(code)
            return code


def corrupt_check(code: str, alphabet: str, rng: random.Random) -> str:
    """``code`` with its last character replaced by a different one of ``alphabet``."""
    choices = [c for c in alphabet if c != code[-1]]
    return code[:-1] + rng.choice(choices)
