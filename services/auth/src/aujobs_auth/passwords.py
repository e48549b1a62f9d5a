"""Password policy: hashing (argon2id) and refusing guessable passwords.

A password is refused when it is shorter than the minimum, appears in the bundled list
of common passwords (``data/common_passwords.txt``), or is built from at most two weak
pieces plus a few extra characters: words from that list, keyboard walks and
sequences (``abcd``, ``4321``, ``qwerty``), repeated characters, years, the user's own
email address, or the site's name. ``Password2026!``, ``qwertyuiop12`` and
``australiajobs1`` are refused; ``correct horse battery`` is not.

Passwords are never logged; the reasons returned here never contain the password.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# Verified when the email is unknown so a miss costs the same time as a hit.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not there is a hash (``None`` checks a dummy)."""
    try:
        ok = await asyncio.to_thread(_hasher.verify, password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# ------------------------------------------------------------------ strength

SITE_WORDS = ("australiajobs", "australianjobs", "ausjobs", "aujobs", "australia", "jobboard", "jobs")

# Keyboard rows and columns, the alphabet and digit runs: any 3+ characters of these
# (forwards or backwards) are one weak piece.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890123456789",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertyuiop[]\\",
    "asdfghjkl;'",
    "zxcvbnm,./",
    "qwertzuiop",
    "azertyuiop",
    "`1234567890-=",
    "~!@#$%^&*()_+",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "a1s2d3f4g5h6j7k8l9",
    "qazwsxedcrfvtgbyhnujmikolp",
    "147258369",
    "159753",
    "7894561230",
    "1472583690",
    "3692581470",
)

_LEET = str.maketrans({"@": "a", "4": "a", "3": "e", "0": "o", "$": "s", "5": "s", "7": "t", "+": "t"})
_LEET_I = str.maketrans({"1": "i", "!": "i", "|": "i"})
_LEET_L = str.maketrans({"1": "l", "!": "l", "|": "l"})
_SEPARATORS = re.compile(r"[\s\-_.,;:'\"]+")

# A password made of at most this many weak pieces plus at most MAX_EXTRA other
# characters is refused.
MAX_WEAK_PIECES = 2
MAX_EXTRA = 4
_MIN_WORD = 4


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("aujobs_auth").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@cache
def _sequence_pieces() -> frozenset[str]:
    pieces: set[str] = set()
    for seq in _SEQUENCES:
        for s in (seq, seq[::-1]):
            for i in range(len(s)):
                for j in range(i + 3, len(s) + 1):
                    pieces.add(s[i:j])
    return frozenset(pieces)


@cache
def _longest_piece() -> int:
    return max(max(len(w) for w in common_passwords()), max(len(s) for s in _SEQUENCES))


def _context_words(email: str | None) -> set[str]:
    words = set(SITE_WORDS)
    if email and "@" in email:
        local, _, domain = email.lower().partition("@")
        local = local.split("+", 1)[0]
        for part in [local, re.sub(r"[^a-z0-9]", "", local), *re.split(r"[^a-z]+", local)]:
            if len(part) >= 3:
                words.add(part)
        for label in domain.split("."):
            if len(label) >= 4 and label not in {"gmail", "yahoo", "hotmail", "outlook", "bigpond"}:
                words.add(label)
        if domain.split(".")[0] in {"gmail", "yahoo", "hotmail", "outlook", "bigpond"}:
            words.add(domain.split(".")[0])
    return words


def _is_weak_piece(piece: str, words: frozenset[str], context: set[str]) -> bool:
    if len(piece) >= 3 and len(set(piece)) == 1:
        return True
    if piece in context:
        return True
    if len(piece) >= _MIN_WORD and piece in words:
        return True
    if len(piece) == 4 and piece.isdigit() and 1900 <= int(piece) <= 2099:
        return True  # a year
    return piece in _sequence_pieces()


def _weak_structure(s: str, words: frozenset[str], context: set[str]) -> bool:
    """Can ``s`` be covered by <= MAX_WEAK_PIECES weak pieces and <= MAX_EXTRA other
    characters? (Dynamic programming over (position, pieces used) -> fewest extras.)"""
    n = len(s)
    longest = max(_longest_piece(), *(len(c) for c in context))
    if n > MAX_WEAK_PIECES * longest + MAX_EXTRA:
        return False
    inf = n + 1
    best = [[inf] * (MAX_WEAK_PIECES + 1) for _ in range(n + 1)]
    best[0][0] = 0
    for i in range(n):
        for used in range(MAX_WEAK_PIECES + 1):
            extra = best[i][used]
            if extra > MAX_EXTRA:
                continue
            if extra + 1 < best[i + 1][used]:
                best[i + 1][used] = extra + 1
            if used < MAX_WEAK_PIECES:
                for j in range(i + 3, min(n, i + longest) + 1):
                    if extra < best[j][used + 1] and _is_weak_piece(s[i:j], words, context):
                        best[j][used + 1] = extra
    return min(best[n]) <= MAX_EXTRA


def password_weakness(password: str, *, email: str | None = None, min_length: int = 12) -> str | None:
    """Why ``password`` is refused (a message for the user), or ``None`` when it is fine."""
    if len(password) < min_length:
        return f"Passwords need at least {min_length} characters."
    lowered = password.lower().strip()
    compact = _SEPARATORS.sub("", lowered)
    words = common_passwords()
    if lowered in words or compact in words:
        return "This password is one of the most commonly used passwords; choose another."
    if len(set(compact)) < 4:
        return "This password repeats too few different characters; choose another."
    for unit in range(1, len(compact) // 2 + 1):
        if len(compact) % unit == 0 and compact == compact[:unit] * (len(compact) // unit):
            return "This password is a short pattern repeated; choose another."
    context = _context_words(email)
    variants = {
        compact,
        compact.translate(_LEET).translate(_LEET_I),
        compact.translate(_LEET).translate(_LEET_L),
    }
    variants |= {v[::-1] for v in variants}
    for variant in variants:
        if variant in words:
            return "This password is one of the most commonly used passwords; choose another."
        if _weak_structure(variant, words, context):
            return (
                "This password is too easy to guess: it is built from common words, keyboard "
                "patterns, sequences, years, your email address or the site's name. Choose "
                "another (a few unrelated words make a strong one)."
            )
    return None
