"""Deterministic record generators: each record is a pure function of (seed, stream, id).

Records are produced as JSON text directly (`orjson.Fragment`), from a template per stream whose
pieces are picked from precomputed pools of JSON-safe values: no dict is built and no serializer
walks the record, which makes generation several times cheaper than building dicts. The SDK's
serializer (orjson) copies a Fragment through unchanged.

No per-record randomness state: a record's fields come from a 64-bit hash of its id mixed with the
seed, cut into bit fields that index precomputed pools. So a read that resumes at id N emits
exactly the bytes a full read would have emitted from N on, whatever the slice size.

Time: every stream's `updated_at` grows strictly with `id` (id * STEP seconds after 2020-01-01,
plus a jitter smaller than STEP), so "newer than the state's updated_at" is "id above some N", and
raising `count` only adds records newer than all existing ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import orjson
from orjson import Fragment

from source_faker import pools

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
MIX3 = 0xD6E8FEB86659FD93

BASE_EPOCH = 1_577_836_800  # 2020-01-01T00:00:00Z
STEP = 10  # seconds of updated_at between consecutive ids
DAY = 86_400
PAST_DAYS = 800  # created_at may lie this far before BASE_EPOCH

STREAM_SALTS = {"users": 1, "products": 2, "purchases": 3, "addresses": 4, "phones": 5, "profiles": 6, "accounts": 7}


def stream_salt(seed: int, stream: str) -> int:
    """The per-(seed, stream) constant mixed into every id hash."""
    return mix64((seed & MASK) ^ (STREAM_SALTS[stream] * GOLDEN & MASK))


def mix64(x: int) -> int:
    """splitmix64's finalizer: a cheap, well-spread 64-bit hash."""
    z = (x * GOLDEN) & MASK
    z = ((z ^ (z >> 30)) * MIX1) & MASK
    z = ((z ^ (z >> 27)) * MIX2) & MASK
    return z ^ (z >> 31)


def _cycle(pool: tuple[Any, ...] | list[Any], size: int) -> tuple[Any, ...]:
    """`pool` repeated/trimmed to exactly `size` entries (a power of two: picks are masks)."""
    return tuple(pool[i % len(pool)] for i in range(size))


@cache
def _time_of_day() -> tuple[str, ...]:
    return tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00:00" for s in range(DAY))


@cache
def _day_prefixes(days: int) -> tuple[str, ...]:
    """'YYYY-MM-DDT' for every day from PAST_DAYS before the base to `days` after it."""
    base = datetime(2020, 1, 1, tzinfo=UTC)
    return tuple((base + timedelta(days=d)).strftime("%Y-%m-%dT") for d in range(-PAST_DAYS, days + 2))


class IdHash:
    """Tabulation hashing of ids: two independent 64-bit hashes per id from six lookup tables.

    Three table lookups and two xors per hash, several times cheaper in Python than an arithmetic
    mixer, and 3-independent (plenty for fake data). Tables depend only on (seed, stream).
    """

    def __init__(self, seed: int, stream: str) -> None:
        salt = stream_salt(seed, stream)
        tables = [tuple(mix64(salt ^ (t << 32) ^ k) for k in range(4096)) for t in range(6)]
        self.h0, self.h1, self.h2, self.g0, self.g1, self.g2 = tables

    def h(self, i: int) -> int:
        """The first hash of id `i` (ids below 2**36)."""
        return self.h0[i & 4095] ^ self.h1[(i >> 12) & 4095] ^ self.h2[(i >> 24) & 4095]

    def g(self, i: int) -> int:
        """The second, independent hash of id `i`."""
        return self.g0[i & 4095] ^ self.g1[(i >> 12) & 4095] ^ self.g2[(i >> 24) & 4095]

    def updated_at(self, i: int) -> int:
        """Seconds after BASE_EPOCH of record `i`'s `updated_at`: strictly increasing with `i`."""
        return i * STEP + (self.h(i) >> 40) % STEP

    def first_id_after(self, seconds: float) -> int:
        """The smallest id whose `updated_at` is strictly later than `seconds` after BASE_EPOCH."""
        if seconds < STEP:
            return 1
        candidate = int(seconds // STEP)
        while self.updated_at(candidate) <= seconds:
            candidate += 1
        return candidate


@cache
def id_hash(seed: int, stream: str) -> IdHash:
    """The (cached) IdHash of a seed and stream."""
    return IdHash(seed, stream)


def parse_cursor(value: Any) -> float | None:
    """A state's `updated_at` as seconds after BASE_EPOCH (None when it is not a date-time)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() - BASE_EPOCH


class Clock:
    """Formats seconds-after-base as RFC 3339 strings through two lookup tables (no datetime calls)."""

    def __init__(self, max_id: int) -> None:
        self.days = _day_prefixes(max_id * STEP // DAY + 2)
        self.tod = _time_of_day()

    def fmt(self, seconds: int) -> str:
        """RFC 3339 UTC timestamp `seconds` after 2020-01-01T00:00:00Z."""
        day, sec = divmod(seconds, DAY)
        return self.days[day + PAST_DAYS] + self.tod[sec]


# Pools sized to powers of two; every string is checked JSON-safe (no quote, backslash, control).
def _safe(values: tuple[str, ...]) -> tuple[str, ...]:
    for v in values:
        if any(c in v for c in '"\\') or any(ord(c) < 32 for c in v):
            raise ValueError(f"pool value {v!r} is not JSON-safe")
    return values


_FIRST = _safe(_cycle(pools.FIRST_NAMES, 256))
_LAST = _safe(_cycle(pools.LAST_NAMES, 256))
_FIRST_LOWER = tuple(n.lower() for n in _FIRST)
_LAST_LOWER = tuple(n.lower() for n in _LAST)
_DOMAINS = _safe(_cycle(pools.EMAIL_DOMAINS, 8))
_STREETS = _safe(tuple(f"{n} {s}" for n in _cycle(pools.STREET_NAMES, 64) for s in pools.STREET_SUFFIXES))  # 512
_LOCATIONS = _cycle(pools.LOCATIONS, 64)
_TWO_DIGITS = _cycle([f"{i:02d}" for i in range(100)], 128)
_OCCUPATIONS = _safe(_cycle(pools.OCCUPATIONS_T, 64))
_LANGUAGES = _safe(_cycle(pools.LANGUAGES, 16))
_GENDERS = _safe(_cycle(pools.GENDERS, 8))
_BLOOD = _safe(_cycle(pools.BLOOD_TYPES, 8))
_PHONE_KINDS = _safe(_cycle(pools.PHONE_KINDS, 4))
_CURRENCIES = _safe(_cycle(pools.CURRENCIES, 8))
_CHANNELS = _safe(_cycle(pools.PURCHASE_CHANNELS, 8))
_MAKES = _safe(_cycle(pools.PRODUCT_MAKES, 32))
_KINDS = _safe(_cycle(pools.PRODUCT_KINDS, 32))
_ADJECTIVES = _safe(_cycle(pools.PRODUCT_ADJECTIVES, 16))
_BOOL = ("false", "true")
_ACTIVE = ("false",) + ("true",) * 7
_BALANCES = tuple(repr(k * 1.25) for k in range(16384))
_WEIGHTS = tuple(repr(round(0.1 + k / 50.0, 2)) for k in range(1024))


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _tag_sets() -> tuple[str, ...]:
    """64 JSON arrays of 0 to 3 distinct tags."""
    tags = pools.TAGS
    sets: list[str] = []
    for k in range(64):
        n = (0, 1, 1, 2, 2, 3, 1, 0)[k & 7]
        sets.append(_json_text(sorted({tags[(k * 7 + j * 5) % len(tags)] for j in range(n)})))
    return tuple(sets)


_TAGS = _tag_sets()


@cache
def _addresses(seed: int) -> tuple[str, ...]:
    """16384 addresses as JSON objects (shared by the users whose hash picks them)."""
    ids = id_hash(seed, "addresses")
    out = []
    for k in range(16384):
        g = ids.g(k)
        city, region, postal, country = _LOCATIONS[(g >> 20) & 63]
        address = {
            "street_number": 1 + (g & 2047),
            "street_name": _STREETS[(g >> 11) & 511],
            "city": city,
            "region": region,
            "postal_code": postal + _TWO_DIGITS[(g >> 50) & 127],
            "country_code": country,
        }
        out.append(_json_text(address))
    return tuple(out)


@cache
def _phone_lists(seed: int) -> tuple[str, ...]:
    """4096 JSON arrays of 0 to 2 phone numbers."""
    ids = id_hash(seed, "phones")
    out: list[str] = []
    for k in range(4096):
        g = ids.g(k)
        n = (0, 1, 1, 2)[g & 3]
        phones = [
            {
                "kind": _PHONE_KINDS[(g >> 2) & 3] if j == 0 else "work",
                "number": f"+1-{200 + ((g >> (8 + j * 20)) & 511)}-555-{(g >> (17 + j * 20)) % 10000:04d}",
            }
            for j in range(n)
        ]
        out.append(_json_text(phones))
    return tuple(out)


class Cursor:
    """The `updated_at` of the record a generator yielded last (read by the stream's state update)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = ""


@cache
def _name_segments() -> tuple[str, ...]:
    """65536 `"name":"First Last","email":"first.last` JSON segments (the email goes on with the id)."""
    return tuple(
        f'"name":"{_FIRST[k & 255]} {_LAST[k >> 8]}","email":"{_FIRST_LOWER[k & 255]}.{_LAST_LOWER[k >> 8]}'
        for k in range(65536)
    )


@cache
def _profile_segments(seed: int) -> tuple[str, ...]:
    """16384 `"age":..,"gender":..,"occupation":..,"language":..,"blood_type":..,"height_cm":..` segments."""
    ids = id_hash(seed, "profiles")
    out = []
    for k in range(16384):
        h = ids.h(k)
        out.append(
            f'"age":{18 + (h & 63)},"gender":"{_GENDERS[(h >> 6) & 7]}",'
            f'"occupation":"{_OCCUPATIONS[(h >> 9) & 63]}","language":"{_LANGUAGES[(h >> 15) & 15]}",'
            f'"blood_type":"{_BLOOD[(h >> 19) & 7]}","height_cm":{150 + ((h >> 22) & 63)}'
        )
    return tuple(out)


@cache
def _account_segments(seed: int) -> tuple[str, ...]:
    """16384 `"is_active":..,"account_balance":..,"tags":[..],"phones":[..]` segments."""
    ids = id_hash(seed, "accounts")
    phone_lists = _phone_lists(seed)
    out = []
    for k in range(16384):
        h = ids.h(k)
        out.append(
            f'"is_active":{_ACTIVE[h & 7]},"account_balance":{_BALANCES[(h >> 3) & 16383]},'
            f'"tags":{_TAGS[(h >> 17) & 63]},"phones":{phone_lists[(h >> 23) & 4095]}'
        )
    return tuple(out)


def users(seed: int, start: int, stop: int, cursor: Cursor) -> Iterator[Fragment]:
    """User records with ids in [start, stop), as JSON text.

    A user is assembled from a few precomputed JSON segments (name+email, profile, address, account)
    picked by bit fields of the id's hashes, plus its id and its two timestamps.
    """
    ids = id_hash(seed, "users")
    h0, h1, h2, g0, g1, g2 = ids.h0, ids.h1, ids.h2, ids.g0, ids.g1, ids.g2
    clock = Clock(stop)
    days, tod = clock.days, clock.tod
    names, domains, profiles = _name_segments(), _DOMAINS, _profile_segments(seed)
    addresses, accounts = _addresses(seed), _account_segments(seed)
    step, past = STEP, PAST_DAYS
    for i in range(start, stop):
        lo, mid, hi = i & 4095, (i >> 12) & 4095, (i >> 24) & 4095
        h = h0[lo] ^ h1[mid] ^ h2[hi]
        g = g0[lo] ^ g1[mid] ^ g2[hi]
        updated = i * step + (h >> 40) % step
        d, s = divmod(updated, 86400)
        cd, cs = divmod(updated - (g >> 44) * 60, 86400)  # created up to ~2 years earlier
        cursor.value = updated_at = days[d + past] + tod[s]
        yield Fragment(
            f'{{"id":{i},{names[h & 65535]}{i}@{domains[(h >> 16) & 7]}",{profiles[(h >> 19) & 16383]},'
            f'"address":{addresses[g & 16383]},{accounts[(g >> 14) & 16383]},'
            f'"created_at":"{days[cd + past]}{tod[cs]}","updated_at":"{updated_at}"}}'
        )


def product_price(ids: IdHash, product_id: int) -> float:
    """A product's unit price (purchases use it to compute totals)."""
    return round(5 + ((ids.h(product_id) >> 20) & 0xFFFF) / 40.0, 2)


def products(seed: int, start: int, stop: int, cursor: Cursor) -> Iterator[Fragment]:
    """Product records with ids in [start, stop), as JSON text."""
    ids = id_hash(seed, "products")
    clock = Clock(stop)
    makes, kinds, adjectives, currencies, flags, weights = _MAKES, _KINDS, _ADJECTIVES, _CURRENCIES, _BOOL, _WEIGHTS
    for i in range(start, stop):
        h = ids.h(i)
        updated = i * STEP + (h >> 40) % STEP
        make, kind, adjective = makes[h & 31], kinds[(h >> 8) & 31], adjectives[(h >> 14) & 15]
        cursor.value = updated_at = clock.fmt(updated)
        yield Fragment(
            f'{{"id":{i},"name":"{make} {kind} {adjective}","make":"{make}",'
            f'"model":"{kind} {adjective} {100 + (h >> 50) % 900}","category":"{kind}",'
            f'"year":{2008 + (h >> 18) % 17},"price":{product_price(ids, i)!r},'
            f'"currency":"{currencies[(h >> 36) & 7]}","in_stock":{flags[(h >> 39) & 3 != 0]},'
            f'"weight_kg":{weights[(h >> 44) & 1023]},'
            f'"created_at":"{clock.fmt(updated - ((h >> 54) & 1023) * 3600)}","updated_at":"{updated_at}"}}'
        )


def purchases(seed: int, start: int, stop: int, product_count: int, cursor: Cursor) -> Iterator[Fragment]:
    """Purchase records with ids in [start, stop), as JSON text.

    Purchase `i` belongs to a user with id <= i (so it exists whenever the purchase does, users and
    purchases having the same `count`) and to a product with id <= `product_count`.
    """
    ids = id_hash(seed, "purchases")
    h0, h1, h2, g0, g1, g2 = ids.h0, ids.h1, ids.h2, ids.g0, ids.g1, ids.g2
    product_ids = id_hash(seed, "products")
    clock = Clock(stop)
    days, tod = clock.days, clock.tod
    cached_prices = min(product_count, 100_000)
    prices = [0.0] + [product_price(product_ids, p) for p in range(1, cached_prices + 1)]
    price_texts = [repr(p) for p in prices]
    channels, currencies = _CHANNELS, _CURRENCIES
    step, past = STEP, PAST_DAYS
    for i in range(start, stop):
        lo, mid, hi = i & 4095, (i >> 12) & 4095, (i >> 24) & 4095
        h = h0[lo] ^ h1[mid] ^ h2[hi]
        g = g0[lo] ^ g1[mid] ^ g2[hi]
        updated = i * step + (h >> 40) % step
        product_id = 1 + g % product_count
        quantity = 1 + ((h >> 32) & 3)
        if product_id <= cached_prices:
            price, price_text = prices[product_id], price_texts[product_id]
        else:
            price = product_price(product_ids, product_id)
            price_text = repr(price)
        purchased = updated - ((h >> 56) & 0x7F) * 60
        d, s = divmod(updated, 86400)
        pd, ps = divmod(purchased, 86400)
        ad, as_ = divmod(purchased - 60 - ((h >> 44) & 0xFFF) * 60, 86400)
        added = days[ad + past] + tod[as_]
        cursor.value = updated_at = days[d + past] + tod[s]
        returned = f'"{updated_at}"' if (g >> 50) & 31 == 0 else "null"
        yield Fragment(
            f'{{"id":{i},"user_id":{1 + (h & 0xFFFFFFFFFF) % i},"product_id":{product_id},'
            f'"quantity":{quantity},"unit_price":{price_text},"total":{round(price * quantity, 2)!r},'
            f'"currency":"{currencies[(h >> 36) & 7]}","channel":"{channels[(g >> 40) & 7]}",'
            f'"added_to_cart_at":"{added}","purchased_at":"{days[pd + past]}{tod[ps]}","returned_at":{returned},'
            f'"created_at":"{added}","updated_at":"{updated_at}"}}'
        )
