"""The body-area tree: which areas overlap, and how to split an area around a smaller one."""

from collections.abc import Iterable
from typing import Any

# {"slug", "name", "children": [...]} as in the catalog's area list.
AreaNode = dict[str, Any]


class AreaTree:
    def __init__(self, nodes: Iterable[AreaNode]) -> None:
        self.parent: dict[str, str | None] = {}
        self.children: dict[str, list[str]] = {}
        self.names: dict[str, str] = {}
        self.order: list[str] = []
        # Areas whose children do not cover all of them (the perioral area beyond the upper lip).
        self.partial: set[str] = set()
        # Share of an adult's body surface, in percent, where the catalog gives one.
        self.surface: dict[str, float] = {}
        self._add(nodes, None)

    def _add(self, nodes: Iterable[AreaNode], parent: str | None) -> None:
        for node in nodes:
            slug: str = node["slug"]
            self.parent[slug] = parent
            self.names[slug] = node.get("name", slug)
            self.order.append(slug)
            self.children[slug] = [child["slug"] for child in node.get("children", [])]
            if node.get("children_partial"):
                self.partial.add(slug)
            if node.get("surface_percent") is not None:
                self.surface[slug] = float(node["surface_percent"])
            self._add(node.get("children", []), slug)

    def __contains__(self, slug: object) -> bool:
        return slug in self.parent

    def ancestors(self, slug: str) -> list[str]:
        """The area itself, then its parent, up to the root."""
        chain = []
        current: str | None = slug
        while current is not None:
            chain.append(current)
            current = self.parent.get(current)
        return chain

    def contains(self, outer: str, inner: str) -> bool:
        """Whether `inner` is `outer` or lies inside it."""
        return outer in self.ancestors(inner)

    def overlaps(self, first: str, second: str) -> bool:
        return self.contains(first, second) or self.contains(second, first)

    def descendants(self, slug: str) -> list[str]:
        found: list[str] = []
        for child in self.children.get(slug, []):
            found.append(child)
            found.extend(self.descendants(child))
        return found

    def split_around(self, area: str, blockers: Iterable[str]) -> list[str]:
        """Leaves of `area` such that each lies wholly inside or wholly outside every blocker area.

        An area that strictly contains a blocker is replaced by its children, recursively; the
        rest of the face stays whole while only the part around the blocker is cut out.
        """
        blockers = list(blockers)
        strictly_inside = [b for b in blockers if b != area and self.contains(area, b)]
        if not strictly_inside or not self.children.get(area):
            return [area]
        parts: list[str] = []
        for child in self.children[area]:
            parts.extend(self.split_around(child, blockers))
        return parts

    def split_parts(self, area: str, blockers: Iterable[str]) -> list[tuple[str, bool]]:
        """Like split_around, as (slug, rest) pairs: when the children of a split area do not
        cover all of it, the area itself comes back with rest=True, meaning "the rest of it"."""
        blockers = list(blockers)
        strictly_inside = [b for b in blockers if b != area and self.contains(area, b)]
        if not strictly_inside or not self.children.get(area):
            return [(area, False)]
        parts: list[tuple[str, bool]] = []
        for child in self.children[area]:
            parts.extend(self.split_parts(child, blockers))
        if area in self.partial:
            parts.append((area, True))
        return parts

    def sort(self, slugs: Iterable[str]) -> list[str]:
        position = {slug: index for index, slug in enumerate(self.order)}
        return sorted(set(slugs), key=lambda slug: position.get(slug, len(position)))

    def surface_of(self, areas: Iterable[str]) -> float:
        """The body-surface share of `areas`, each place counted once (an area inside another
        listed one adds nothing); an area without its own share counts its children's."""
        listed = set(areas)
        outermost = [a for a in listed if not any(o != a and self.contains(o, a) for o in listed)]
        return sum(self._share(a) for a in outermost)

    def _share(self, slug: str) -> float:
        if slug in self.surface:
            return self.surface[slug]
        return sum(self._share(child) for child in self.children.get(slug, []))
