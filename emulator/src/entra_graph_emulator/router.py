"""Match (method, path) to a route; ids in placeholders may contain dots."""

import re

from .framework import GraphHttpError

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def compile_pattern(pattern):
    """Turn ``/a/{x}/b('{y}')`` into a case-insensitive regex with named groups.

    Graph treats path segments case-insensitively; placeholder values keep their case.
    """
    parts = []
    position = 0
    for match in _PLACEHOLDER.finditer(pattern):
        parts.append(re.escape(pattern[position:match.start()]))
        parts.append("(?P<%s>[^/]+?)" % match.group(1))
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE)


def _specificity(pattern):
    """Routes with more literal text win (``jobs/validateCredentials`` before ``jobs/{job_id}``)."""
    literal = _PLACEHOLDER.sub("", pattern)
    return (len(literal.strip("/").split("/")), len(literal))


class Route:
    def __init__(self, method, pattern, handler, permission):
        self.method = method.upper()
        self.pattern = pattern
        self.handler = handler
        self.permission = permission
        self.regex = compile_pattern(pattern)
        self.first_segment = pattern.strip("/").split("/")[0].split("(")[0].lower()
        # A placeholder matches exactly one segment, so a route only ever matches paths with
        # this many segments: the router buckets by it.
        self.segment_count = pattern.strip("/").count("/") + 1


class Router:
    """Routes grouped by first path segment and segment count, most specific first."""

    def __init__(self):
        self._by_segment = {}
        self.routes = []

    def add(self, method, pattern, handler, permission=None):
        route = Route(method, pattern, handler, permission)
        if "{" in route.first_segment:
            raise ValueError("a route must start with a literal segment: %s" % pattern)
        self.routes.append(route)
        bucket = self._by_segment.setdefault(route.first_segment, {}).setdefault(route.segment_count, [])
        bucket.append(route)
        bucket.sort(key=lambda item: _specificity(item.pattern), reverse=True)

    def add_all(self, entries):
        for entry in entries:
            self.add(*entry)

    def match(self, method, path):
        """Return (route, params) or raise the Graph error for an unknown path or method."""
        path = path.rstrip("/") or "/"
        stripped = path.strip("/")
        first = stripped.split("/")[0].split("(")[0].lower()
        buckets = self._by_segment.get(first)
        if not buckets:
            # Graph answers 400 for a segment it does not know (docs are silent on the text;
            # we chose Graph's usual "Resource not found for the segment" message).
            segment = path.strip("/").split("/")[0]
            raise GraphHttpError(400, "BadRequest", "Resource not found for the segment '%s'." % segment)
        method = method.upper()
        path_matched = False
        for route in buckets.get(stripped.count("/") + 1, ()):
            found = route.regex.match(path)
            if not found:
                continue
            if route.method == method:
                return route, found.groupdict()
            path_matched = True
        if path_matched:
            raise GraphHttpError(405, "Request_BadRequest", "The requested resource does not support http method '%s'." % method)
        raise GraphHttpError(404, "Request_ResourceNotFound",
                             "Resource '%s' does not exist or one of its queried reference-property objects are not present." % path)
