"""Label selectors as kube-apiserver 1.28 parses them (the `labelSelector` of a list or watch):
equality (`k=v`, `k==v`, `k!=v`), set-based (`k in (a,b)`, `k notin (a,b)`), existence (`k`,
`!k`) and `k>N` / `k<N`, comma-separated, with the same syntax errors (a 400 with the message the
real parser gives) and the same key and value validation.
"""

import re

SPECIAL = set("=!(),<>")
OPERATOR_TOKENS = {"=": "=", "==": "==", "!=": "!=", ">": "gt", "<": "lt", "in": "in",
                   "notin": "notin"}
SYMBOLS = {")", ",", "!", "==", "=", ">", "<", "!=", "("}

NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
NAME_MESSAGE = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?"
                "[A-Za-z0-9]')")
QUALIFIED_MESSAGE = ("a qualified name must consist of alphanumeric characters, '-', '_' or '.', "
                     "and must start and end with an alphanumeric character (e.g. 'MyName',  or "
                     "'my.name',  or '123-abc', regex used for validation is "
                     "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain "
                     "prefix and '/' (e.g. 'example.com/MyName')")
SUBDOMAIN_MESSAGE = ("prefix part a lowercase RFC 1123 subdomain must consist of lower case "
                     "alphanumeric characters, '-' or '.', and must start and end with an "
                     "alphanumeric character (e.g. 'example.com', regex used for validation is "
                     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
VALUE_MESSAGE = ("a valid label must be an empty string or consist of alphanumeric characters, "
                 "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                 "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                 "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


class SelectorError(ValueError):
    pass


def _lex(text):
    """(token, literal) pairs: a token is a symbol, "in"/"notin", "id", or "end"."""
    tokens, i = [], 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i == len(text):
            tokens.append(("end", ""))
            return tokens
        if text[i] in SPECIAL:
            # The longest symbol that is one, as the real lexer reads them.
            j, best = i, None
            while j < len(text) and text[j] in SPECIAL:
                j += 1
                if text[i:j] in SYMBOLS:
                    best = text[i:j]
                elif best is not None:
                    break
            if best is None:
                tokens.append(("error", f"error expected: keyword found '{text[i:j]}'"))
                i = j
                continue
            tokens.append((best, best))
            i += len(best)
            continue
        j = i
        while j < len(text) and text[j] not in SPECIAL and text[j] not in " \t\r\n":
            j += 1
        word = text[i:j]
        tokens.append((word if word in ("in", "notin") else "id", word))
        i = j


def _key_errors(key):
    errors = []
    prefix, slash, name = key.rpartition("/")
    if key.count("/") > 1:
        return [QUALIFIED_MESSAGE]
    if slash and not prefix:
        errors.append("prefix part must be non-empty")
    elif slash:
        if len(prefix) > 253:
            errors.append("prefix part must be no more than 253 characters")
        if not SUBDOMAIN.match(prefix):
            errors.append(SUBDOMAIN_MESSAGE)
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if name and not NAME.match(name):
        errors.append(NAME_MESSAGE)
    return errors


class _Parser:
    def __init__(self, text):
        self.tokens = _lex(text)
        self.pos = 0

    def peek(self, values=True):
        tok, lit = self.tokens[self.pos]
        return ("id" if values and tok in ("in", "notin") else tok), lit

    def take(self, values=True):
        item = self.peek(values)
        self.pos += 1
        return item

    def parse(self):
        requirements = []
        while True:
            tok, lit = self.peek()
            if tok == "end":
                return requirements
            if tok not in ("id", "!"):
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.requirement())
            except SelectorError as e:
                raise SelectorError(f"unable to parse requirement: {e}")
            tok, lit = self.take()
            if tok == "end":
                return requirements
            if tok != ",":
                raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self.peek()
            if tok not in ("id", "!"):
                raise SelectorError(f"found '{lit}', expected: identifier after ','")

    def requirement(self):
        tok, lit = self.take()
        operator = None
        if tok == "!":
            operator = "!"
            tok, lit = self.take()
        if tok != "id":
            raise SelectorError(f"found '{lit}', expected: identifier")
        key = lit
        errors = _key_errors(key)
        if errors:
            raise SelectorError(f'<nil>: Invalid value: "{key}": ' + "; ".join(errors))
        if operator == "!" or self.peek()[0] in ("end", ","):
            return check(key, operator or "exists", [])
        tok, lit = self.take(values=False)
        if tok not in OPERATOR_TOKENS:
            raise SelectorError(f"found '{lit}', expected: '=', '!=', '==', 'in', notin'")
        operator = OPERATOR_TOKENS[tok]
        values = self.value_set() if operator in ("in", "notin") else self.exact_value()
        return check(key, operator, sorted(values))

    def value_set(self):
        tok, lit = self.take()
        if tok != "(":
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.peek()
        if tok == ")":
            self.take()
            return {""}
        if tok not in ("id", ","):
            raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")
        values = set()
        while True:
            tok, item = self.take()
            if tok == "id":
                values.add(item)
                nxt, nlit = self.peek()
                if nxt == ")":
                    break
                if nxt != ",":
                    raise SelectorError(f"found '{nlit}', expected: ',' or ')'")
            elif tok == ",":
                if not values:
                    values.add("")
                nxt, _ = self.peek()
                if nxt == ")":
                    values.add("")
                    break
                if nxt == ",":
                    self.take()
                    values.add("")
            else:
                raise SelectorError(f"found '{item}', expected: ',', or identifier")
        self.take()  # ")"
        return values

    def exact_value(self):
        tok, lit = self.peek()
        if tok in ("end", ","):
            return {""}
        tok, lit = self.take()
        if tok == "id":
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def check(key, operator, values):
    """A requirement, or the errors the real NewRequirement gives for it."""
    errors = []
    if operator in ("gt", "lt"):
        for i, v in enumerate(values):
            if not re.fullmatch(r"[+-]?\d+", v):
                errors.append(f'values[{i}]: Invalid value: "{v}": for \'Gt\', \'Lt\' operators, '
                              f"the value must be an integer")
    for i, v in enumerate(values):
        problems = ([] if len(v) <= 63 else ["must be no more than 63 characters"]) + \
            ([] if VALUE.match(v) else [VALUE_MESSAGE])
        if problems:
            errors.append(f'values[{i}][{key}]: Invalid value: "{v}": ' + "; ".join(problems))
    if len(errors) == 1:
        raise SelectorError(errors[0])
    if errors:
        raise SelectorError("[" + ", ".join(errors) + "]")
    return key, operator, frozenset(values)


def parse(text):
    """The requirements of a selector: (key, operator, values); SelectorError as the real one."""
    return _Parser(text or "").parse()


def matches(labels, requirements):
    for key, operator, values in requirements:
        has, value = key in labels, labels.get(key)
        if operator in ("=", "==", "in") and not (has and value in values):
            return False
        if operator in ("!=", "notin") and has and value in values:
            return False
        if operator == "exists" and not has:
            return False
        if operator == "!" and has:
            return False
        if operator in ("gt", "lt"):
            if not has or not re.fullmatch(r"[+-]?\d+", value):
                return False
            bound = int(next(iter(values)))
            if (operator == "gt" and not int(value) > bound) or \
                    (operator == "lt" and not int(value) < bound):
                return False
    return True
