"""Read YAML into plain values while keeping line numbers for every problem found.

Content files are checked against a small schema as they are read: a wrong type, an unknown
key or a missing key becomes a `Problem` with the file's line, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from course.content import Correction, Problem

SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass
class YamlReader:
    path: str
    line_offset: int = 0  # lines before the YAML text in its file (front matter)
    problems: list[Problem] = field(default_factory=list)

    def report(self, node: yaml.Node | None, message: str) -> None:
        line = (node.start_mark.line + 1 if node is not None else 1) + self.line_offset
        self.problems.append(Problem(self.path, line, message))

    def parse(self, text: str) -> yaml.Node | None:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = (mark.line + 1 if mark is not None else 1) + self.line_offset
            problem = getattr(exc, "problem", None) or str(exc)
            self.problems.append(Problem(self.path, line, f"invalid YAML: {problem}"))
            return None
        if node is None:
            self.problems.append(Problem(self.path, 1 + self.line_offset, "the file is empty"))
        return node

    def mapping(
        self,
        node: yaml.Node | None,
        what: str,
        required: set[str],
        optional: frozenset[str] = frozenset(),
    ) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.report(node, f"{what} must be a mapping of keys to values")
            return None
        found: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.report(key_node, f"{what} has a key that is not text")
            elif key in found:
                self.report(key_node, f"{what} repeats the key '{key}'")
            elif key not in required and key not in optional:
                allowed = ", ".join(sorted(required | optional))
                self.report(key_node, f"{what} has an unknown key '{key}' (allowed: {allowed})")
            else:
                found[key] = value_node
        for key in sorted(required - found.keys()):
            self.report(node, f"{what} is missing the key '{key}'")
        return found

    def text(self, node: yaml.Node | None, what: str) -> str:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
            value = str(node.value).strip()
            if value:
                return value
            self.report(node, f"{what} must not be empty")
            return ""
        if node is not None:
            self.report(node, f"{what} must be text")
        return ""

    def corrected_text(
        self, node: yaml.Node | None, what: str, where: str
    ) -> tuple[str, Correction | None]:
        """Text, or corrected course text: a mapping of `text` (what learners see), `original`
        (the words it replaces) and `note` (why, shown beside the text)."""
        if not isinstance(node, yaml.MappingNode):
            return self.text(node, what), None
        keys = self.mapping(node, f"{what} (a correction)", {"text", "original", "note"}) or {}
        text = self.text(keys.get("text"), f"{what}: text")
        original = self.text(keys.get("original"), f"{what}: original")
        note = self.text(keys.get("note"), f"{what}: note")
        if text and text == original:
            self.report(node, f"{what}: the corrected text is the same as the original")
        if not (text and original and note) or text == original:
            return text, None
        return text, Correction(where, original, note, node.start_mark.line + 1 + self.line_offset)

    def slug(self, node: yaml.Node | None, what: str) -> str:
        value = self.text(node, what)
        if value and (not set(value) <= SLUG_CHARS or value.startswith("-") or "--" in value):
            self.report(node, f"{what} '{value}' must use only a-z, 0-9 and single hyphens")
        return value

    def integer(self, node: yaml.Node | None, what: str, lo: int, hi: int) -> int:
        if not (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int"):
            self.report(node, f"{what} must be a whole number")
            return lo
        value = int(str(node.value).replace("_", ""), 0)
        if not lo <= value <= hi:
            self.report(node, f"{what} must be between {lo} and {hi}, got {value}")
        return value

    def boolean(self, node: yaml.Node | None, what: str) -> bool:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return bool(yaml.safe_load(node.value))
        self.report(node, f"{what} must be true or false")
        return False

    def sequence(self, node: yaml.Node | None, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        self.report(node, f"{what} must be a list")
        return []
