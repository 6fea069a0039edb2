"""source-faker: users, products and purchases, deterministic by seed, incremental by `updated_at`."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Mapping
from typing import Any

from orjson import Fragment

from ducto.protocol.sdk import ReadContext, Source, Stream
from source_faker import generators

logger = logging.getLogger("source_faker")

CURSOR = "updated_at"


class FakerStream(Stream):
    """A generated stream: ids 1..size, `updated_at` strictly increasing with the id.

    Records are yielded as `orjson.Fragment` (ready JSON text) rather than dicts: the SDK serializes
    records with orjson, which copies a Fragment as is, so no dict is built or walked per record.

    Incremental reads resume after the state's `updated_at`: since every record's `updated_at` is
    a known function of its id, the first id to emit is computed, not searched for, and the
    records before it are never generated.
    """

    primary_key = "id"
    cursor_field = CURSOR

    def __init__(self, seed: int, size: int, records_per_slice: int) -> None:
        self.seed = seed
        self.size = size
        self.checkpoint_interval = records_per_slice  # type: ignore[misc]
        self._state: dict[str, Any] = {}
        self._cursor = generators.Cursor()

    def generate(self, start: int, stop: int) -> Iterator[Fragment]:
        """Records with ids in [start, stop), as JSON text; sets `self._cursor` before each yield."""
        raise NotImplementedError

    def read_records(self, ctx: ReadContext) -> Iterator[Fragment]:  # type: ignore[override]
        """Generate from the first id newer than the state (or from 1) up to the stream's size."""
        self._state = dict(ctx.state or {})
        start = 1
        if ctx.sync_mode == "incremental" and ctx.state:
            seconds = generators.parse_cursor(ctx.state.get(CURSOR))
            if seconds is None:
                logger.warning("stream %s: state has no usable %r, reading everything", self.name, CURSOR)
            else:
                start = generators.id_hash(self.seed, self.name).first_id_after(seconds)
        if start > self.size:
            logger.info("stream %s: nothing newer than the state", self.name)
            return iter(())
        return self.generate(start, self.size + 1)

    def get_updated_state(
        self, state: dict[str, Any] | None, record: Mapping[str, Any], cursor: list[str]
    ) -> dict[str, Any] | None:
        """Records arrive in `updated_at` order, so the newest is the last: keep one dict, update it.

        `record` is JSON text; its `updated_at` is the value the generator left in `self._cursor`.
        """
        self._state[CURSOR] = self._cursor.value
        return self._state


class Users(FakerStream):
    """People with a nested address, tags and phone numbers."""

    name = "users"
    schema_path = "schemas/users.json"

    def generate(self, start: int, stop: int) -> Iterator[Fragment]:
        return generators.users(self.seed, start, stop, self._cursor)


class Products(FakerStream):
    """The product catalog purchases refer to."""

    name = "products"
    schema_path = "schemas/products.json"

    def generate(self, start: int, stop: int) -> Iterator[Fragment]:
        return generators.products(self.seed, start, stop, self._cursor)


class Purchases(FakerStream):
    """Purchases referring to a user (id <= the purchase's id) and a product, by id."""

    name = "purchases"
    schema_path = "schemas/purchases.json"

    def __init__(self, seed: int, size: int, records_per_slice: int, product_count: int) -> None:
        super().__init__(seed, size, records_per_slice)
        self.product_count = product_count

    def generate(self, start: int, stop: int) -> Iterator[Fragment]:
        return generators.purchases(self.seed, start, stop, self.product_count, self._cursor)


class SourceFaker(Source):
    """Fake but realistic e-commerce data, fast enough to benchmark anything downstream."""

    def __init__(self) -> None:
        self._random_seed: int | None = None

    def seed(self, config: Mapping[str, Any]) -> int:
        """The config's seed, or one random seed per process when it is -1 (logged, to reproduce)."""
        seed = int(config.get("seed", -1))
        if seed != -1:
            return seed
        if self._random_seed is None:
            self._random_seed = random.SystemRandom().randrange(1 << 31)
            logger.info("seed is -1: using random seed %d", self._random_seed)
        return self._random_seed

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        """users and purchases have `count` records; products `product_count`."""
        seed, count = self.seed(config), int(config["count"])
        per_slice = int(config.get("records_per_slice", 1000))
        product_count = int(config.get("product_count", 100))
        return [
            Users(seed, count, per_slice),
            Products(seed, product_count, per_slice),
            Purchases(seed, count, per_slice, product_count),
        ]
