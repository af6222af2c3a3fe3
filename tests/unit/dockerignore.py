"""Docker's own ``.dockerignore`` rules, to know which files a build context holds.

A port of ``moby/patternmatcher`` (Apache-2.0), which Docker and BuildKit use: the file
is read as ``ignorefile.ReadAll`` does (comments, whitespace, ``filepath.Clean``, a
leading ``/`` dropped) and a path is matched as ``MatchesOrParentMatches`` does (the path
or any of its parent folders matches; the last matching pattern wins, ``!`` re-includes).
These rules are not gitignore's: a pattern is anchored at the context's root, so
``*.json`` keeps out ``a.json`` but not ``resources/a.json``; ``**/*.json`` is needed for
every depth.
"""

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

# Regex specials that mean nothing in Go's filepath.Match and are escaped as they are.
_ESCAPED = set(".+()|{}$")


def read_patterns(text: str) -> list[str]:
    """The patterns of a ``.dockerignore`` file, as ``ignorefile.ReadAll`` returns them."""
    patterns = []
    for number, line in enumerate(text.splitlines()):
        if number == 0:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = posixpath.normpath(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern.lstrip("/") or "/"
        patterns.append(f"!{pattern}" if invert else pattern)
    return patterns


@dataclass(frozen=True)
class _Pattern:
    """One compiled pattern (``Pattern.compile`` of patternmatcher)."""

    text: str
    exclusion: bool
    kind: str  # exact, prefix, suffix or regexp
    regexp: re.Pattern[str] | None

    @classmethod
    def compile(cls, pattern: str) -> "_Pattern":
        exclusion = pattern.startswith("!")
        if exclusion:
            if len(pattern) == 1:
                raise ValueError('illegal exclusion pattern: "!"')
            pattern = pattern[1:]
        text = posixpath.normpath(pattern)
        regex, kind, i = "^", "exact", 0
        while i < len(text):
            ch = text[i]
            if ch == "*":
                if text[i + 1 : i + 2] == "*":
                    start = i
                    i += 1
                    if text[i + 1 : i + 2] == "/":  # "**/" is taken as "**"
                        i += 1
                    if i + 1 >= len(text):  # "**" at the end: everything below
                        if kind == "exact":
                            kind = "prefix"
                        else:
                            regex += ".*"
                            kind = "regexp"
                    else:
                        regex += "(.*/)?"
                        kind = "regexp"
                    if start == 0:
                        kind = "suffix"
                else:
                    regex += "[^/]*"
                    kind = "regexp"
            elif ch == "?":
                regex += "[^/]"
                kind = "regexp"
            elif ch in _ESCAPED:
                regex += "\\" + ch
            elif ch == "\\":
                if i + 1 < len(text):
                    i += 1
                    regex += "\\" + text[i]
                    kind = "regexp"
                else:
                    regex += "\\\\"
            elif ch in "[]":
                regex += ch
                kind = "regexp"
            else:
                regex += ch
            i += 1
        compiled = re.compile(regex + "$") if kind == "regexp" else None
        return cls(text=text, exclusion=exclusion, kind=kind, regexp=compiled)

    def match(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        assert self.regexp is not None
        return self.regexp.match(path) is not None


class DockerIgnore:
    """The patterns of one ``.dockerignore``; ``ignores(path)`` as Docker decides it."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = [_Pattern.compile(p) for p in patterns if p.strip()]

    @classmethod
    def read(cls, path: Path) -> "DockerIgnore":
        return cls(read_patterns(path.read_text()) if path.exists() else [])

    def ignores(self, path: str) -> bool:
        """Whether the context-relative, slash-separated ``path`` is left out of the build."""
        path = posixpath.normpath(path)
        if path == ".":
            return False
        parent = posixpath.dirname(path)
        parents = parent.split("/") if parent else []
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            match = pattern.match(path)
            if not match and parents:
                match = any(pattern.match("/".join(parents[: n + 1])) for n in range(len(parents)))
            if match:
                matched = not pattern.exclusion
        return matched


def context_files(root: Path) -> list[str]:
    """Every file of the build context at ``root`` that ``.dockerignore`` lets through."""
    ignore = DockerIgnore.read(root / ".dockerignore")
    kept = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not ignore.ignores(relative):
            kept.append(relative)
    return kept
