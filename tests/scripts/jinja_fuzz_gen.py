#!/usr/bin/python3
"""Random templates for differential testing of our Jinja engine against
Python Jinja2 (tests/text/jinja_fuzz_test.cpp): expressions over a fixed set
of variables with operators, filters, tests, methods, slices and conditional
expressions, inside if/for/set/macro statements with whitespace control.
Most of them fail on both sides (random operations on random types); the
rest must render byte-identically.

usage: jinja_fuzz_gen.py SEED COUNT VARS.json REQUEST.json
Writes a request for jinja_oracle.py: every template with the variables of
VARS.json.
"""
import json
import random
import sys

ATOMS = ["s", "n", "f", "neg", "t", "fa", "z", "u", "lst", "strs", "empty", "ed", "d", "nested", "objs", "msgs",
         "quote", "u8", "1", "0", "-1", "2.5", "'a'", "''", "'héllo'", "' x '", "[1, 'a']", "()", "(1,)",
         "{'k': 1}", "none", "true", "false", "'<b>'", "3", "'\\n'", "'ab,cd'", "d.a", "d['b']", "msgs[0]",
         "msgs[-1].role", "lst[1:]", "s[::-1]", "objs[0].name", "think"]
BINOPS = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">", "<=", ">=", "in", "not in", "and", "or", "**"]
FILTERS = ["trim", "length", "upper", "lower", "string", "list", "first", "last", "reverse|list", "sort", "join(',')",
           "default('D')", "tojson", "tojson(indent=2)", "items|list", "int", "float", "capitalize", "title", "safe",
           "unique|list", "min", "max", "sum", "abs", "round", "d", "escape", "count", "map('string')|list",
           "select|list", "reject|list", "selectattr('v')|list", "map(attribute='name')|list", "replace('a','b')",
           "indent(2)", "center(8)", "wordcount", "dictsort", "batch(2)|list", "trim('x')", "format(1)",
           "sort(attribute='name')", "join(', ', attribute='role')", "tojson(sort_keys=true)"]
TESTS = ["defined", "undefined", "none", "string", "number", "mapping", "iterable", "sequence", "boolean", "false",
         "true", "integer", "float", "even", "odd", "divisibleby 2", "eq 1", "in lst", "lower", "upper", "callable"]
METHODS = ["startswith('a')", "endswith('o')", "split()", "split(',')", "strip()", "lstrip('h')", "upper()", "lower()",
           "replace('l', 'L')", "find('l')", "count('l')", "title()", "items()", "keys()", "values()", "get('b')",
           "get('x', 1)", "index(1)", "isdigit()", "zfill(4)", "splitlines()", "format(1)", "rstrip()", "capitalize()",
           "split('</think>')[-1].lstrip('\\n')", "rsplit(',', 1)"]
INDICES = ["0", "-1", "1:", "::-1", "'a'", "'role'", ":-1", "1::2"]
SPACES = ["\n", "  ", "\n  ", " \n", "\t", ""]
IF_OPEN = ["{%- if {c} %}", "{% if {c} -%}", "{%+ if {c} %}", "{% if {c} +%}", "{% if {c} %}"]


def expr(d=0):
    r = random.random()
    if d > 2 or r < 0.45:
        return random.choice(ATOMS)
    if r < 0.6:
        return f"{expr(d + 1)} {random.choice(BINOPS)} {expr(d + 1)}"
    if r < 0.72:
        return f"{expr(d + 1)}|{random.choice(FILTERS)}"
    if r < 0.78:
        return f"{expr(d + 1)} is {random.choice(['', 'not '])}{random.choice(TESTS)}"
    if r < 0.85:
        return f"({expr(d + 1)}).{random.choice(METHODS)}"
    if r < 0.89:
        return f"{expr(d + 1)} if {expr(d + 1)} else {expr(d + 1)}"
    if r < 0.92:
        return f"not {expr(d + 1)}"
    if r < 0.96:
        return f"[{expr(d + 1)}, {expr(d + 1)}]"
    return f"({expr(d + 1)})[{random.choice(INDICES)}]"


def stmt(d=0):
    r = random.random()
    if d > 2 or r < 0.35:
        return "{{ " + expr() + " }}"
    if r < 0.48:
        return "{% if " + expr() + " %}" + stmt(d + 1) + "{% elif " + expr() + " %}" + stmt(d + 1) + \
            "{% else %}" + stmt(d + 1) + "{% endif %}"
    if r < 0.62:
        v = random.choice(["x", "y"])
        cond = random.choice(["", " if " + expr()])
        return "{% for " + v + " in " + expr() + cond + " %}{{ loop.index }}" + stmt(d + 1) + "{{ " + v + \
            " }}{{ loop.previtem }}{% else %}E{% endfor %}"
    if r < 0.72:
        return "{% set x = " + expr() + " %}" + stmt(d + 1) + "{{ x }}"
    if r < 0.84:
        ws = random.choice(SPACES)
        return ws + random.choice(IF_OPEN).replace("{c}", expr()) + ws + stmt(d + 1) + ws + \
            random.choice(["{% endif %}", "{%- endif %}", "{% endif -%}"]) + ws
    if r < 0.9:
        return random.choice(SPACES) + "{# c #}" + random.choice(SPACES) + stmt(d + 1)
    return "{% macro m(a, b=2) %}" + stmt(d + 1) + "[{{ a }}{{ b }}]{% endmacro %}{{ m(" + expr() + ") }}"


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    random.seed(int(sys.argv[1]))
    count = int(sys.argv[2])
    with open(sys.argv[3], encoding="utf-8") as f:
        variables = json.load(f)
    templates = [stmt() + stmt() for _ in range(count)]
    req = {"templates": templates, "now": 1721995200,
           "cases": [{"t": i, "vars": variables} for i in range(count)]}
    with open(sys.argv[4], "w", encoding="utf-8") as f:
        json.dump(req, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
