"""The people of the demo city: names, citizen IDs (with old and foreign prefixes), homes."""

from __future__ import annotations

import random
from datetime import date, timedelta
from itertools import accumulate

from demo.ids import IdFactory
from demo.model import Context, Person
from demo.vocab import GIVEN_ANY, GIVEN_FEMALE, GIVEN_MALE, SURNAMES


def person_name(rng: random.Random, male: bool) -> str:
    """A two- or three-character Chinese name."""
    pool = GIVEN_MALE if male else GIVEN_FEMALE
    surname = SURNAMES[min(int(len(SURNAMES) * rng.random() ** 1.8), len(SURNAMES) - 1)]
    if rng.random() < 0.3:
        return surname + rng.choice(pool)
    return surname + rng.choice(GIVEN_ANY + pool) + rng.choice(pool)


def _birth(rng: random.Random) -> date:
    r = rng.random()
    if r < 0.22:
        year = rng.randint(1938, 1960)
    elif r < 0.82:
        year = rng.randint(1961, 1990)
    else:
        year = rng.randint(1991, 2004)
    return date(year, 1, 1) + timedelta(days=rng.randrange(365))


class People:
    """The person pool with indexes by home county and age."""

    def __init__(self, ctx: Context, ids: IdFactory) -> None:
        self.ctx = ctx
        self.ids = ids
        self.rng = ctx.rng("people")
        self.persons: list[Person] = []
        self.by_home: dict[str, list[int]] = {}
        self.elderly: list[int] = []
        self._local = [c.code for c in ctx.counties if not c.zone]
        self._cum = list(
            accumulate(2.0 if c.name.endswith("区") else 1.0 for c in ctx.counties if not c.zone)
        )

    def local_county(self, rng: random.Random) -> str:
        return rng.choices(self._local, cum_weights=self._cum)[0]

    def make(self, prefix: str, home: str, birth: date | None = None) -> int:
        """Create one person and return its index."""
        rng = self.rng
        male = rng.random() < 0.55
        birth = birth or _birth(rng)
        person = Person(
            idx=len(self.persons),
            name=person_name(rng, male),
            pid=self.ids.citizen(prefix, birth, male),
            birth=birth,
            male=male,
            home=home,
        )
        self.persons.append(person)
        self.by_home.setdefault(home, []).append(person.idx)
        if birth.year <= 1960:
            self.elderly.append(person.idx)
        return person.idx

    def populate(self, n: int) -> None:
        """``n`` residents: most carry a current county prefix, some an abolished code of the
        same prefecture, some a neighbouring prefecture's, some another province's."""
        ctx, rng = self.ctx, self.rng
        neigh = [c.code for c in ctx.neighbour_counties] or self._local
        for _ in range(n):
            r = rng.random()
            if r < 0.68:
                prefix = home = self.local_county(rng)
            elif r < 0.80:
                prefix, home = rng.choice(ctx.abolished_prefixes), self.local_county(rng)
            elif r < 0.92:
                prefix = rng.choice(neigh)
                home = prefix if rng.random() < 0.6 else self.local_county(rng)
            else:
                prefix = rng.choice(ctx.other_prefixes)
                home = self.local_county(rng) if rng.random() < 0.7 else prefix
            self.make(prefix, home)

    def pick(self, rng: random.Random) -> int:
        """Any person, with a skew so that some people hold many roles."""
        return min(int(len(self.persons) * rng.random() ** 1.5), len(self.persons) - 1)

    def pick_in(self, rng: random.Random, county: str) -> int:
        """Someone living in ``county`` (a new resident when nobody does yet)."""
        pool = self.by_home.get(county)
        if not pool:
            return self.make(county, county)
        return rng.choice(pool)

    def pick_elderly(self, rng: random.Random) -> int:
        return rng.choice(self.elderly) if self.elderly else self.pick(rng)
