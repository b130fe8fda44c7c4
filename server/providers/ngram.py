"""An offline model of the code at hand: lines and token n-grams of the workspace's files.

Pure and deterministic (ties break alphabetically), so a test can say exactly what it
proposes. Three ways to continue, tried in order:

1. the cursor's line so far starts a line seen elsewhere (the open document first, then
   the workspace): propose the rest of the most frequent such line;
2. the cursor sits on a blank line: propose what follows the previous line where it
   occurs elsewhere, the whole indented block when that line opens one;
3. otherwise extend the last tokens greedily with 4-, 3- and 2-gram counts, completing a
   half-typed word first, up to the end of the line.
"""

from __future__ import annotations

import bisect
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_TOKEN = re.compile(r"([ \t]*)([A-Za-z_]\w*|\d[\w.]*|\S)")
_WORD_TAIL = re.compile(r"[A-Za-z_]\w*$")
_NEWLINE = "\n"
_ORDER = 3
"""Tokens of context (a 4-gram model backing off to bigrams)."""
_MAX_LINE_MATCHES = 64
"""More lines than this start with what was typed: too ambiguous for the line model."""
_KEEP = 6
"""Next tokens kept per context after counting."""
_MAX_TOKENS = 24
_MAX_CHARS = 120
_MAX_BLOCK_LINES = 12
_OPENERS = (":", "{", "(", "[", "=>", "->")


def tokens_of_line(line: str) -> list[str]:
    """Tokens with a leading space when whitespace came before them (kept as one space)."""
    return [
        sys.intern((" " if spaces else "") + lexeme)
        for spaces, lexeme in _TOKEN.findall(line.rstrip("\r\n"))
    ]


@dataclass
class NgramModel:
    line_counts: dict[str, int] = field(default_factory=dict)
    sorted_lines: list[str] = field(default_factory=list)
    follows: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Stripped line -> (file, line index) of its first occurrence with a line after it."""
    files: list[list[str]] = field(default_factory=list)
    next_tokens: dict[tuple[str, ...], tuple[tuple[str, int], ...]] = field(default_factory=dict)
    """Context -> the likeliest next tokens with counts, best first (at most ``_KEEP``)."""
    words: list[str] = field(default_factory=list)
    word_counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, texts: Iterable[str]) -> NgramModel:
        model = cls()
        counts: dict[tuple[str, ...], dict[str, int]] = {}
        for text in texts:
            model._add(text, counts)
        # Counting needs a dict per context; answering needs only the best few, and the
        # tuples take far less memory than the dicts they replace.
        while counts:
            context, next_counts = counts.popitem()
            best = sorted(next_counts.items(), key=lambda item: (-item[1], item[0]))[:_KEEP]
            model.next_tokens[context] = tuple(best)
        model.sorted_lines = sorted(model.line_counts)
        model.words = sorted(model.word_counts)
        return model

    def _add(self, text: str, counts: dict[tuple[str, ...], dict[str, int]]) -> None:
        lines = [line.rstrip() for line in text.splitlines()]
        file_index = len(self.files)
        self.files.append(lines)
        previous: str | None = None
        history: list[str] = []
        for number, line in enumerate(lines):
            stripped = line.strip()
            if not stripped:
                continue
            key = sys.intern(stripped)
            self.line_counts[key] = self.line_counts.get(key, 0) + 1
            if previous is not None and previous not in self.follows:
                self.follows[previous] = (file_index, number)
            previous = key
            for token in (*tokens_of_line(line), _NEWLINE):
                for order in range(1, _ORDER + 1):
                    if len(history) >= order:
                        context = tuple(history[-order:])
                        seen = counts.setdefault(context, {})
                        seen[token] = seen.get(token, 0) + 1
                history.append(token)
                if len(history) > _ORDER:
                    del history[0]
                word = token.lstrip()
                if word[:1].isalpha() or word[:1] == "_":
                    self.word_counts[word] = self.word_counts.get(word, 0) + 1

    # --- proposing ---------------------------------------------------------------------

    def complete(self, before: Sequence[str], line_prefix: str, line_suffix: str) -> str:
        """The continuation at a cursor, or ``""``.

        ``before`` are the document's lines above the cursor's line, ``line_prefix`` and
        ``line_suffix`` the cursor's line split at the cursor.
        """
        if line_suffix.strip(" \t)]}'\",;:\r\n"):
            return ""  # mid-line with real text after the cursor: ghost text would clash
        typed = line_prefix.strip()
        if not typed:
            return self._next_lines(before, line_prefix)
        return self._rest_of_line(before, line_prefix, typed) or self._tokens(before, line_prefix)

    def _rest_of_line(self, before: Sequence[str], line_prefix: str, typed: str) -> str:
        # What was typed, trailing spaces included, must start the line found.
        typed = line_prefix.lstrip()
        if len(typed.strip()) < 2:
            return ""
        scores: dict[str, int] = {}
        for line in before:
            stripped = line.strip()
            if len(stripped) > len(typed) and stripped.startswith(typed):
                scores[stripped] = scores.get(stripped, 0) + 2
        start = bisect.bisect_right(self.sorted_lines, typed)
        end = bisect.bisect_left(self.sorted_lines, typed + "\U0010ffff", start)
        if end - start > _MAX_LINE_MATCHES:
            if not scores:
                return ""
        else:
            for line in self.sorted_lines[start:end]:
                scores[line] = scores.get(line, 0) + self.line_counts[line]
        if not scores:
            return ""
        best = min(scores, key=lambda line: (-scores[line], line))
        return best[len(typed) :]

    def _next_lines(self, before: Sequence[str], line_prefix: str) -> str:
        previous_index = next(
            (i for i in range(len(before) - 1, -1, -1) if before[i].strip()), None
        )
        if previous_index is None:
            return ""
        anchor = before[previous_index].strip()
        source: Sequence[str] | None = None
        after = 0
        # The open document itself first: the most local evidence.
        for i in range(previous_index - 1, -1, -1):
            if before[i].strip() == anchor:
                source, after = before, i + 1
                break
        if source is None:
            found = self.follows.get(anchor)
            if found is None:
                return ""
            source, after = self.files[found[0]], found[1]
        following = [line for line in source[after : after + 4 * _MAX_BLOCK_LINES]]
        while following and not following[0].strip():
            following.pop(0)
        if not following:
            return ""
        first_indent = _indent(following[0])
        lines = [following[0]]
        if anchor.endswith(_OPENERS):
            for line in following[1:_MAX_BLOCK_LINES]:
                if line.strip() and _indent(line) < first_indent:
                    break
                lines.append(line)
            while lines and not lines[-1].strip():
                lines.pop()
        base = len(line_prefix)
        text = [lines[0].strip()]
        for line in lines[1:]:
            extra = max(0, _indent(line) - first_indent)
            text.append(" " * (base + extra) + line.strip() if line.strip() else "")
        return "\n".join(text)

    def _tokens(self, before: Sequence[str], line_prefix: str) -> str:
        history: list[str] = []
        if before:
            history = [*tokens_of_line(before[-1]), _NEWLINE]
        partial_match = _WORD_TAIL.search(line_prefix)
        partial = partial_match.group(0) if partial_match else ""
        typed = line_prefix[: len(line_prefix) - len(partial)]
        history.extend(tokens_of_line(typed))
        spaced = not typed or typed[-1:] in (" ", "\t")
        out: list[str] = []
        for step in range(_MAX_TOKENS):
            token = self._next(history, partial if step == 0 else "", spaced and step == 0)
            if token is None and step == 0 and partial:
                token = _word_in_document(before, partial, spaced) or self._word(partial, spaced)
            if token is None or token == _NEWLINE:
                break
            if step == 0 and partial:
                piece = token.lstrip()[len(partial) :]
            elif step == 0 and spaced:
                piece = token.lstrip()
            else:
                piece = token
            out.append(piece)
            history.append(token)
            if sum(len(p) for p in out) > _MAX_CHARS or _looping(history):
                break
        return "".join(out).rstrip()

    def _next(self, history: Sequence[str], partial: str, spaced: bool) -> str | None:
        for order in range(min(_ORDER, len(history)), 0, -1):
            for token, count in self.next_tokens.get(tuple(history[-order:]), ()):
                if (not partial or _starts_word(token, partial)) and (
                    order > 1 or count > 1 or partial
                ):
                    return token
        return None

    def _word(self, partial: str, spaced: bool) -> str | None:
        start = bisect.bisect_right(self.words, partial)
        end = bisect.bisect_left(self.words, partial + "\U0010ffff", start)
        if start == end:
            return None
        best = min(
            self.words[start : min(end, start + 512)], key=lambda w: (-self.word_counts[w], w)
        )
        return (" " if spaced else "") + best


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_DOCUMENT_WORD_LINES = 400
"""Lines above the cursor searched for a word to complete (the nearest are the likeliest)."""


def _word_in_document(before: Sequence[str], partial: str, spaced: bool) -> str | None:
    """The most frequent word of the lines just above that starts with ``partial``."""
    counts: dict[str, int] = {}
    for line in before[-_DOCUMENT_WORD_LINES:]:
        if partial in line:
            for word in _IDENTIFIER.findall(line):
                if len(word) > len(partial) and word.startswith(partial):
                    counts[word] = counts.get(word, 0) + 1
    if not counts:
        return None
    best = min(counts, key=lambda word: (-counts[word], word))
    return (" " if spaced else "") + best


def _starts_word(token: str, partial: str) -> bool:
    word = token.lstrip()
    return len(word) > len(partial) and word.startswith(partial)


def _looping(history: Sequence[str]) -> bool:
    tail = history[-6:]
    return len(tail) == 6 and tail[:3] == tail[3:]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))
