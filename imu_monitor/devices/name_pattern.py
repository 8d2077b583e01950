"""Profile ``match.name_pattern``: a regular expression matched against advertised device names,
limited so that no name can make matching slow.

Python's ``re`` backtracks: ``^(a+)+$`` takes time doubling per character of a name like
``aaaa...ab``, and a nearby device chooses its advertised name. No bounded (linear-time) engine
is in the standard library, and a name pattern needs very little, so a pattern is refused at
load unless it stays in a subset whose backtracking is bounded by its own structure:

- a quantifier (``*``, ``+``, ``?``, ``{m,n}``) applies to something that matches in one way
  only: a character, a class, ``.``, or a group of those (no quantifier or ``|`` inside);
- no backreferences, lookarounds or conditionals;
- the number of ways the pattern can match at one place (the product of each quantifier's
  choices, counting at most ``MAX_NAME_CHARS`` + 1 per unbounded one, times the sum of each
  alternation's branches) is at most ``MAX_MATCH_PATHS``.

Names are also matched cut to ``MAX_NAME_CHARS`` (BLE's longest device name, 248 octets: Core
spec Vol 3 Part C 12.1), so the work per name has a fixed ceiling: measured about 0.1 s at the
limit (2^13 overlapping alternatives over 248 characters); ``^Thingy``-like patterns take
microseconds. One unbounded quantifier (``.*``, ``\\d+``) is fine, two are refused (use a
bounded ``{0,20}`` for the second).
"""

from __future__ import annotations

import re
from re import _constants as sre_c  # the parser ``re`` itself uses (``sre_parse`` before 3.11)
from re import _parser as sre_parse

MAX_NAME_CHARS = 248
"""Advertised names are matched cut to this length (the BLE Device Name maximum)."""
MAX_PATTERN_CHARS = 200
MAX_MATCH_PATHS = 10_000

_ONE_WAY = {
    sre_c.LITERAL, sre_c.NOT_LITERAL, sre_c.ANY, sre_c.IN, sre_c.AT, sre_c.CATEGORY,
}  # fmt: skip
_REPEATS = {sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)}


class UnsafePattern(ValueError):
    """The pattern is outside the bounded subset (the message says what to change)."""


def check_name_pattern(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` if it is in the bounded subset (see module doc); else raise
    ``UnsafePattern`` (or ``re.error`` for an invalid one)."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafePattern(f"at most {MAX_PATTERN_CHARS} characters")
    paths = _paths(sre_parse.parse(pattern))
    if paths > MAX_MATCH_PATHS:
        raise UnsafePattern(
            f"fewer ways to match (about {min(paths, 10**12):.3g} > {MAX_MATCH_PATHS}: at most "
            "one unbounded quantifier such as .* or \\d+, few alternatives)"
        )
    return re.compile(pattern)


def search_name(compiled: re.Pattern[str], name: str) -> bool:
    """True if the advertised ``name`` (cut to ``MAX_NAME_CHARS``) fits the pattern."""
    return compiled.search(name[:MAX_NAME_CHARS]) is not None


def _paths(items) -> int:
    total = 1
    for op, av in items:
        total = min(total * _item_paths(op, av), 10**12)
    return total


def _item_paths(op, av) -> int:
    if op in _ONE_WAY:
        return 1
    if op is sre_c.SUBPATTERN:
        return _paths(av[3])
    if op is sre_c.ATOMIC_GROUP:
        return _paths(av)
    if op is sre_c.BRANCH:
        return sum(_paths(b) for b in av[1])
    if op in _REPEATS:
        lo, hi, body = av
        if _paths(body) != 1 or any(o in _REPEATS for o, _ in _flat(body)):
            raise UnsafePattern(
                "a quantifier only on a character, a class, '.' or a group of those (a "
                "quantified group holding a quantifier or '|', like (a+)+, can take "
                "exponential time)"
            )
        hi = MAX_NAME_CHARS if hi is sre_c.MAXREPEAT else min(hi, MAX_NAME_CHARS)
        return max(hi - lo, 0) + 1
    raise UnsafePattern("no backreferences, lookarounds or conditional groups")


def _flat(items):
    """Every (op, av) inside ``items``, groups opened."""
    for op, av in items:
        yield op, av
        if op is sre_c.SUBPATTERN:
            yield from _flat(av[3])
        elif op is sre_c.ATOMIC_GROUP:
            yield from _flat(av)
