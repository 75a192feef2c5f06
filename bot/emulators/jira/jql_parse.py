"""The JQL subset's grammar: tokens, clauses joined with AND/OR/NOT and parentheses, ORDER BY
(bot/emulators/jira/jql.py validates and runs the parsed query)."""

from __future__ import annotations

from dataclasses import dataclass

OPERATORS = ("!=", "!~", "<=", ">=", "=", "~", "<", ">")
VALID_OPERATORS = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS'"
    " and 'IS NOT'."
)


class JqlError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------ the parser
@dataclass(frozen=True)
class Token:
    kind: str  # "word", "string", "op", "(", ")", ",", "end"
    text: str
    at: int


@dataclass(frozen=True)
class Value:
    text: str
    quoted: bool = False
    function: bool = False


@dataclass(frozen=True)
class Clause:
    field: str
    op: str  # "=", "!=", "~", "!~", "<", "<=", ">", ">=", "in", "not in", "is", "is not"
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Combo:
    op: str  # "and", "or"
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    inner: Node


Node = Clause | Combo | Not


@dataclass(frozen=True)
class Query:
    where: Node | None
    order: tuple[tuple[str, bool], ...]  # (field, descending)


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "(),":
            out.append(Token(c, c, i))
            i += 1
        elif c in "\"'":
            j, chars = i + 1, []
            while j < len(text) and text[j] != c:
                if text[j] == "\\" and j + 1 < len(text):
                    j += 1
                chars.append(text[j])
                j += 1
            if j >= len(text):
                raise JqlError(
                    f"Error in the JQL Query: The quoted string '{text[i + 1 :]}' has not been"
                    f" completed. (line 1, character {i + 1})"
                )
            out.append(Token("string", "".join(chars), i))
            i = j + 1
        else:
            op = next((o for o in OPERATORS if text.startswith(o, i)), None)
            if op is not None:
                out.append(Token("op", op, i))
                i += len(op)
                continue
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in "(),\"'=!~<>":
                j += 1
            if j == i:
                raise JqlError(
                    f"Error in the JQL Query: The character '{c}' is a reserved JQL character."
                    f" You must enclose it in a string or use the escape '\\u{ord(c):04x}'"
                    f" instead. (line 1, character {i + 1})"
                )
            out.append(Token("word", text[i:j], i))
            i = j
    out.append(Token("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        return token.kind == "word" and token.text.lower() in words

    def fail(self, expecting: str, token: Token | None = None) -> JqlError:
        token = token or self.peek()
        got = "end of query" if token.kind == "end" else token.text
        return JqlError(
            f"Error in the JQL Query: Expecting {expecting} but got '{got}'."
            f" (line 1, character {token.at + 1})"
        )

    def query(self) -> Query:
        where = None if self.keyword("order") or self.peek().kind == "end" else self.expr()
        order: list[tuple[str, bool]] = []
        if self.keyword("order"):
            self.take()
            if not self.keyword("by"):
                raise self.fail("'BY'")
            self.take()
            while True:
                token = self.take()
                if token.kind not in ("word", "string"):
                    raise self.fail("a field name", token)
                descending = False
                if self.keyword("asc", "desc"):
                    descending = self.take().text.lower() == "desc"
                order.append((token.text, descending))
                if self.peek().kind != ",":
                    break
                self.take()
        if self.peek().kind != "end":
            raise self.fail("either 'OR' or 'AND'")
        return Query(where, tuple(order))

    def expr(self) -> Node:
        parts = [self.conjunction()]
        while self.keyword("or"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Combo("or", tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.unary()]
        while self.keyword("and"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Combo("and", tuple(parts))

    def unary(self) -> Node:
        if self.keyword("not"):
            self.take()
            return Not(self.unary())
        if self.peek().kind == "(":
            self.take()
            inner = self.expr()
            if self.peek().kind != ")":
                raise self.fail("')'")
            self.take()
            return inner
        return self.clause()

    def clause(self) -> Clause:
        name = self.take()
        if name.kind not in ("word", "string"):
            raise self.fail("a field name", name)
        token = self.peek()
        if token.kind == "op":
            self.take()
            return Clause(name.text, token.text, (self.value(),))
        if self.keyword("in"):
            self.take()
            return Clause(name.text, "in", self.values())
        if self.keyword("not"):
            self.take()
            if not self.keyword("in"):
                raise self.fail("'IN'")
            self.take()
            return Clause(name.text, "not in", self.values())
        if self.keyword("is"):
            self.take()
            op = "is"
            if self.keyword("not"):
                self.take()
                op = "is not"
            if not self.keyword("empty", "null"):
                raise self.fail("'EMPTY' or 'NULL'")
            self.take()
            return Clause(name.text, op, ())
        got = "end of query" if token.kind == "end" else token.text
        raise JqlError(
            f"Error in the JQL Query: Expecting operator but got '{got}'. {VALID_OPERATORS}"
            f" (line 1, character {token.at + 1})"
        )

    def value(self) -> Value:
        token = self.take()
        if token.kind == "string":
            return Value(token.text, quoted=True)
        if token.kind != "word" or token.text.lower() in ("and", "or", "order"):
            got = "end of query" if token.kind == "end" else token.text
            raise JqlError(
                f"Error in the JQL Query: Expecting either a value, list or function but got"
                f" '{got}'. You must surround '{got}' in quotation marks to use it as a value."
                f" (line 1, character {token.at + 1})"
            )
        if self.peek().kind == "(":
            self.take()
            if self.peek().kind != ")":
                raise JqlError(
                    f"Error in the JQL Query: function arguments are not supported by the"
                    f" emulator: '{token.text}(...)'. (line 1, character {token.at + 1})"
                )
            self.take()
            return Value(token.text, function=True)
        return Value(token.text)

    def values(self) -> tuple[Value, ...]:
        if self.peek().kind != "(":
            return (self.value(),)
        self.take()
        out = [self.value()]
        while self.peek().kind == ",":
            self.take()
            out.append(self.value())
        if self.peek().kind != ")":
            raise self.fail("')'")
        self.take()
        return tuple(out)


def parse(text: str) -> Query:
    return _Parser(text).query()
