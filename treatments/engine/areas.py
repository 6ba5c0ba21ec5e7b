"""The body-area tree: which areas overlap, and how to split an area around a smaller one."""


class AreaTree:
    def __init__(self, nodes):
        self.parent = {}
        self.children = {}
        self.names = {}
        self.order = []
        self._add(nodes, None)

    def _add(self, nodes, parent):
        for node in nodes:
            slug = node["slug"]
            self.parent[slug] = parent
            self.names[slug] = node.get("name", slug)
            self.order.append(slug)
            self.children[slug] = [child["slug"] for child in node.get("children", [])]
            self._add(node.get("children", []), slug)

    def __contains__(self, slug):
        return slug in self.parent

    def ancestors(self, slug):
        """The area itself, then its parent, up to the root."""
        chain = []
        while slug is not None:
            chain.append(slug)
            slug = self.parent.get(slug)
        return chain

    def contains(self, outer, inner):
        """Whether `inner` is `outer` or lies inside it."""
        return outer in self.ancestors(inner)

    def overlaps(self, first, second):
        return self.contains(first, second) or self.contains(second, first)

    def descendants(self, slug):
        found = []
        for child in self.children.get(slug, []):
            found.append(child)
            found.extend(self.descendants(child))
        return found

    def split_around(self, area, blockers):
        """Leaves of `area` such that each lies wholly inside or wholly outside every blocker area.

        An area that strictly contains a blocker is replaced by its children, recursively; the
        rest of the face stays whole while only the part around the blocker is cut out.
        """
        strictly_inside = [b for b in blockers if b != area and self.contains(area, b)]
        if not strictly_inside or not self.children.get(area):
            return [area]
        parts = []
        for child in self.children[area]:
            parts.extend(self.split_around(child, blockers))
        return parts

    def sort(self, slugs):
        position = {slug: index for index, slug in enumerate(self.order)}
        return sorted(set(slugs), key=lambda slug: position.get(slug, len(position)))
