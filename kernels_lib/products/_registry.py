"""A frozen registry of products, in the rio-tiler ``ColorMaps`` style.

:class:`ProductRegistry` never changes: :meth:`ProductRegistry.register` returns a new
registry. The package functions :func:`terralab.products.get` and friends work on the
default registry, which :func:`terralab.products.register` replaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from terralab.products._base import Product

__all__ = ["ProductRegistry"]


@dataclass(frozen=True)
class ProductRegistry:
    """An immutable mapping of collection id → :class:`Product`.

    Attributes:
        fallback: the product for items of unknown collections (users' own items).
    """

    products: Mapping[str, Product] = field(default_factory=dict)
    fallback: Product | None = None

    def __post_init__(self) -> None:
        """Freeze the mapping."""
        object.__setattr__(self, "products", MappingProxyType(dict(self.products)))

    @classmethod
    def of(cls, products: Iterable[Product], *, fallback: Product | None = None
           ) -> ProductRegistry:
        """Return a registry holding ``products``."""
        return cls({p.id: p for p in products}, fallback)

    def get(self, collection_id: str) -> Product:
        """Return the product of ``collection_id``.

        Raises:
            KeyError: with the known ids when the collection is not registered.
        """
        try:
            return self.products[collection_id]
        except KeyError:
            raise KeyError(f"no product registered for collection {collection_id!r}; "
                           f"known: {self.list()}") from None

    def list(self) -> list[str]:
        """Return the registered collection ids, sorted."""
        return sorted(self.products)

    def register(self, product: Product, *, overwrite: bool = False) -> ProductRegistry:
        """Return a new registry that also holds ``product``.

        Raises:
            ValueError: when ``product.id`` is registered and ``overwrite`` is False.
        """
        if product.id in self.products and not overwrite:
            raise ValueError(f"product {product.id!r} is already registered "
                             "(pass overwrite=True to replace it)")
        return ProductRegistry({**self.products, product.id: product}, self.fallback)

    def for_item(self, item: Any) -> Product:
        """Return the product of a STAC item (pystac.Item or dict), else the fallback.

        Raises:
            KeyError: for an unknown collection when the registry has no fallback.
        """
        collection = item.get("collection") if isinstance(item, Mapping) else item.collection_id
        if collection in self.products or self.fallback is None:
            return self.get(str(collection))
        return self.fallback

    def __contains__(self, collection_id: object) -> bool:
        return collection_id in self.products

    def __len__(self) -> int:
        return len(self.products)
