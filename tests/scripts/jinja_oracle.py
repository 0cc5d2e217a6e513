#!/usr/bin/python3
"""Renders templates with Python Jinja2 exactly as Hugging Face's
apply_chat_template sets it up (transformers, utils/chat_template_utils.py):
an ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the
loopcontrols extension and a `generation` tag (AssistantTracker), a tojson
filter that is json.dumps(ensure_ascii=False, ...), and the globals
raise_exception and strftime_now. The oracle of the chat template tests.

usage: jinja_oracle.py REQUEST.json RESULT.json

REQUEST: {"templates": [source, ...], "now": epoch seconds or null,
          "cases": [{"t": template index, "vars": {name: JSON value}}, ...]}
Variables absent from "vars" are undefined in the template.
RESULT:  [{"ok": rendered text} | {"error": exception class, "message": text,
          "raised": true when it came from raise_exception()}, ...]
"""
import json
import sys
import warnings
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment


class RaisedByTemplate(jinja2.exceptions.TemplateError):
    """What raise_exception() throws (Hugging Face raises TemplateError)."""


class GenerationTag(Extension):
    # Hugging Face's AssistantTracker: {% generation %}...{% endgeneration %}
    # renders its body unchanged (it only records offsets).
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env(now):
    def raise_exception(message):
        raise RaisedByTemplate(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        t = datetime.fromtimestamp(now) if now is not None else datetime.now()
        return t.strftime(fmt)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    # Python's compiler warns about things like `0[1:]` in the code Jinja2
    # generates from random templates; that is noise here.
    warnings.simplefilter("ignore")
    with open(sys.argv[1], encoding="utf-8") as f:
        req = json.load(f)
    env = make_env(req.get("now"))
    compiled = []
    for src in req["templates"]:
        try:
            compiled.append(env.from_string(src))
        except Exception as e:  # a template that does not compile fails every case
            compiled.append(e)
    results = []
    for case in req["cases"]:
        t = compiled[case["t"]]
        try:
            if isinstance(t, Exception):
                raise t
            results.append({"ok": t.render(**case["vars"])})
        except Exception as e:
            results.append({"error": type(e).__name__, "message": str(e),
                            "raised": isinstance(e, RaisedByTemplate)})
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(results, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
