// Unit tests of the template engine with expected outputs written out (each
// checked once against Python Jinja2 3.1 in Hugging Face's setup), so they
// run without Python: whitespace control, loop variables, scoping, slicing,
// printing of values, tojson, undefined values, errors and their kinds and
// lines, and the limits that keep hostile templates from crashing us.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "text/jinja/json_value.h"
#include "text/jinja/py_format.h"
#include "text/jinja/template.h"

namespace dllm::jinja {
namespace {

using ojson = nlohmann::ordered_json;

std::string render(const std::string& src, const char* vars_json = "{}") {
  Template t(src);
  std::vector<std::pair<std::string, Value>> vars;
  const ojson parsed = ojson::parse(vars_json);
  for (const auto& [k, v] : parsed.items()) vars.emplace_back(k, from_json(v));
  RenderEnv env;
  env.now = [] { return std::time_t{1721995200}; };
  return t.render(vars, env);
}

// The error a template gives (parse or render).
TemplateError error_of(const std::string& src, const char* vars_json = "{}") {
  try {
    render(src, vars_json);
  } catch (const TemplateError& e) {
    return e;
  }
  ADD_FAILURE() << "no error from " << src.substr(0, 120);
  return TemplateError(ErrorKind::kRuntime, "none");
}

TEST(JinjaRender, WhitespaceControl) {
  // trim_blocks eats the newline after a block tag, lstrip_blocks the indent before it.
  EXPECT_EQ(render("a\n  {% if true %}\n  x\n  {% endif %}\nb\n"), "a\n  x\nb");
  EXPECT_EQ(render("a\n  {{ 1 }}  \n  {{- 2 -}}  \n b"), "a\n  12b");
  EXPECT_EQ(render("a  {%+ if true %}x{% endif +%}\ny"), "a  x\ny");
  EXPECT_EQ(render("  {% if true -%}  \n x{%- endif %}  z"), "x  z");
  EXPECT_EQ(render("a\n  {# c #}\n  x {# d #}  \ny\n"), "a\n  x   \ny");
  EXPECT_EQ(render("x\r\ny\r\n\n"), "x\ny\n");  // newlines normalised, one final newline dropped
  EXPECT_EQ(render("{% raw %}{{ a }}{% endraw %}\nq"), "{{ a }}q");
  EXPECT_EQ(render("{{ 'a' }}\n{{ 'b' }}\n"), "a\nb");  // no trimming after }}
  EXPECT_EQ(render("{% for i in [1, 2] %}\n  {{ i }}\n{% endfor %}\n"), "  1\n  2\n");
}

TEST(JinjaRender, LoopVariables) {
  EXPECT_EQ(render("{% for i in [3, 1, 2] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
                   "{{ loop.first }}{{ loop.last }}{{ loop.length }}|{{ loop.previtem }}|{{ loop.nextitem }};{% endfor %}"),
            "1032TrueFalse3||1;2121FalseFalse3|3|2;3210FalseTrue3|1|;");
  // The filter of `for ... if` runs first: loop.* counts the kept items.
  EXPECT_EQ(render("{% for i in [3, 1, 2] if i > 1 %}{{ loop.index }}/{{ loop.length }}:{{ i }} {% else %}E{% endfor %}"),
            "1/2:3 2/2:2 ");
  EXPECT_EQ(render("{% for i in [] %}x{% else %}E{% endfor %}"), "E");
  EXPECT_EQ(render("{% for i in [1, 2, 3, 4] %}{% if i == 2 %}{% continue %}{% endif %}{{ i }}"
                   "{% if i == 3 %}{% break %}{% endif %}{% endfor %}"),
            "13");
  EXPECT_EQ(render("{% for k, v in {'x': 1, 'y': 2}|items %}{{ k }}={{ v }};{% endfor %}"), "x=1;y=2;");
  EXPECT_EQ(render("{% for i in range(3) %}{{ loop.cycle('a', 'b') }}{% endfor %}"), "aba");
}

TEST(JinjaRender, Scoping) {
  // Each iteration has a fresh scope; `set` inside does not leak out.
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}"), "12121");
  EXPECT_EQ(render("{% for i in [1, 2] %}{% if i == 1 %}{% set y = 'a' %}{% endif %}[{{ y }}]{% endfor %}"), "[a][]");
  // namespace() is the way out.
  EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"),
            "6");
  // Macros see the variables of where they were defined, at call time.
  EXPECT_EQ(render("{% set z = 1 %}{% macro m() %}{{ z }}{% endmacro %}{% set z = 3 %}{{ m() }}"), "3");
  EXPECT_EQ(render("{% macro m() %}[{{ q }}]{% endmacro %}{% for q in [7] %}{{ m() }}{% endfor %}"), "[]");
  EXPECT_EQ(render("{% macro m(a, b=2) %}{{ a }}-{{ b }}{% endmacro %}{{ m(1) }} {{ m(1, b=5) }}"), "1-2 1-5");
}

TEST(JinjaRender, Slicing) {
  const char* v = R"({"l": [1, 2, 3, 4], "s": "héllo"})";
  EXPECT_EQ(render("{{ l[::-1] }}{{ l[-1] }}{{ l[1:] }}{{ l[:-1] }}{{ l[::2] }}{{ l[5:1:-1] }}{{ l[-100:100] }}", v),
            "[4, 3, 2, 1]4[2, 3, 4][1, 2, 3][1, 3][4, 3][1, 2, 3, 4]");
  EXPECT_EQ(render("{{ s[::-1] }}|{{ s[1:3] }}|{{ s[-1] }}|{{ s[1] }}|{{ s[9] }}|{{ l[9] }}", v), "olléh|él|o|é||");
  EXPECT_EQ(error_of("{{ l[::0] }}", v).kind(), ErrorKind::kRuntime);
}

TEST(JinjaRender, PrintsLikePython) {
  EXPECT_EQ(render("{{ [1, 'a', none, true, 1.5, {'k': 'v'}, (1,), ()] }}"), "[1, 'a', None, True, 1.5, {'k': 'v'}, (1,), ()]");
  EXPECT_EQ(render("{{ [\"it's\", 'a\"b', 'x\\ny', '\\x7f'] }}"), "[\"it's\", 'a\"b', 'x\\ny', '\\x7f']");
  EXPECT_EQ(py_float_repr(1e16), "1e+16");
  EXPECT_EQ(py_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(py_float_repr(0.0001), "0.0001");
  EXPECT_EQ(py_float_repr(0.00001), "1e-05");
  EXPECT_EQ(py_float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(py_float_repr(-0.0), "-0.0");
  EXPECT_EQ(py_float_repr(5e-324), "5e-324");
  EXPECT_EQ(py_float_repr(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(py_float_repr(123456789.125), "123456789.125");
  EXPECT_EQ(render("{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 'ab' * 2 }}"), "3.5 3 -4 2 1024 abab");
  EXPECT_EQ(render("{{ true }}{{ none }}{{ u }}|{{ 'a' ~ 1 ~ none ~ u }}"), "TrueNone|a1None");
}

TEST(JinjaRender, ToJson) {
  const char* v = R"({"d": {"b": 1.0, "a": [1, "x\n\"é\u0001", null, true]}})";
  EXPECT_EQ(render("{{ d|tojson }}", v), R"({"b": 1.0, "a": [1, "x\n\"é\u0001", null, true]})");
  EXPECT_EQ(render("{{ d|tojson(indent=2) }}", v),
            "{\n  \"b\": 1.0,\n  \"a\": [\n    1,\n    \"x\\n\\\"é\\u0001\",\n    null,\n    true\n  ]\n}");
  EXPECT_EQ(render("{{ d|tojson(sort_keys=true, separators=(',', ':')) }}", v), R"({"a":[1,"x\n\"é\u0001",null,true],"b":1.0})");
  EXPECT_EQ(render("{{ 'é🎉'|tojson(ensure_ascii=true) }}"), R"("\u00e9\ud83c\udf89")");
  EXPECT_EQ(render("{{ [[], {}]|tojson(indent=2) }}"), "[\n  [],\n  {}\n]");
  EXPECT_EQ(error_of("{{ u|tojson }}").kind(), ErrorKind::kRuntime);
}

TEST(JinjaRender, UndefinedValues) {
  const char* v = R"({"d": {"a": 1}, "z": null})";
  EXPECT_EQ(render("[{{ u }}][{{ d.x }}][{{ z.x }}][{{ u|length }}][{{ 'a' in u }}][{{ u is defined }}][{{ d.x is defined }}]", v),
            "[][][][0][False][False][False]");
  EXPECT_EQ(render("{% for x in u %}x{% endfor %}{{ u|default('D') }}{{ z|default('D') }}", v), "DNone");
  TemplateError e = error_of("{{ u.x }}", v);
  EXPECT_EQ(e.kind(), ErrorKind::kRuntime);
  EXPECT_EQ(e.detail(), "'u' is undefined");
  EXPECT_EQ(error_of("{{ d.x.y }}", v).detail(), "'dict object' has no attribute 'x'");
  EXPECT_EQ(error_of("{{ u + 'a' }}", v).kind(), ErrorKind::kRuntime);
}

TEST(JinjaRender, ErrorsNameWhatAndWhere) {
  TemplateError e = error_of("line1\n{{ x|nosuchfilter }}");
  EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);  // refused at parse time, before rendering anything
  EXPECT_EQ(e.line(), 2);
  EXPECT_NE(std::string(e.what()).find("filter 'nosuchfilter'"), std::string::npos) << e.what();
  EXPECT_EQ(error_of("{{ x is nosuchtest }}").kind(), ErrorKind::kUnsupported);
  EXPECT_EQ(error_of("{% extends 'base' %}").kind(), ErrorKind::kUnsupported);
  EXPECT_EQ(error_of("{% for i in l recursive %}{% endfor %}").kind(), ErrorKind::kUnsupported);
  EXPECT_EQ(error_of("{% nosuchtag %}").kind(), ErrorKind::kSyntax);
  EXPECT_EQ(error_of("{% if true %}open").kind(), ErrorKind::kSyntax);
  EXPECT_EQ(error_of("{{ 'open }}").kind(), ErrorKind::kSyntax);
  EXPECT_EQ(error_of("{{ 1 + }}").kind(), ErrorKind::kSyntax);
  EXPECT_EQ(error_of("{% break %}").kind(), ErrorKind::kSyntax);
  e = error_of("a\nb\n{% if true %}{{ raise_exception('No user query found in messages.') }}{% endif %}");
  EXPECT_EQ(e.kind(), ErrorKind::kRaised);
  EXPECT_EQ(e.detail(), "No user query found in messages.");
  e = error_of("\n\n\n{{ 1 + 'a' }}");
  EXPECT_EQ(e.line(), 4);
  EXPECT_EQ(e.detail(), "unsupported operand type(s) for +: 'int' and 'str'");
  // Mutating methods are refused by the immutable sandbox.
  EXPECT_EQ(error_of("{% set l = [] %}{{ l.append(1) }}").kind(), ErrorKind::kRuntime);
  // Python ints do not overflow; ours refuse rather than wrap.
  EXPECT_EQ(error_of("{{ 9223372036854775807 + 1 }}").kind(), ErrorKind::kUnsupported);
  EXPECT_EQ(error_of("{{ 2 ** 64 }}").kind(), ErrorKind::kUnsupported);
  // Not valid UTF-8.
  EXPECT_EQ(error_of("\xff{{ 1 }}").kind(), ErrorKind::kSyntax);
}

TEST(JinjaRender, MarkupEscapesWhatMeetsIt) {
  // |safe makes a markupsafe.Markup: `+` escapes the plain str it meets, `~` does not.
  EXPECT_EQ(render("{{ ('a'|safe) + '<b>' }}|{{ ('<'|safe) ~ '<' }}|{{ '<x>' + ('&'|safe) }}"), "a&lt;b&gt;|<<|&lt;x&gt;&");
}

TEST(JinjaRender, HostileTemplatesFailCleanly) {
  // Deep nesting is a syntax error, not a stack overflow.
  EXPECT_EQ(error_of("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}").kind(), ErrorKind::kSyntax);
  EXPECT_EQ(error_of("{{ " + std::string(20000, '-') + "1 }}").kind(), ErrorKind::kSyntax);
  std::string chain = "{{ 1";
  for (int i = 0; i < 5000; ++i) chain += " ~ 1";
  EXPECT_EQ(error_of(chain + " }}").kind(), ErrorKind::kSyntax);
  EXPECT_EQ(error_of("{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}").kind(), ErrorKind::kSyntax);
  EXPECT_EQ(error_of("{{ x" + std::string(5000, '|') + " }}").kind(), ErrorKind::kSyntax);
  std::string filters = "{{ 'x'";
  for (int i = 0; i < 3000; ++i) filters += "|trim";
  EXPECT_EQ(error_of(filters + " }}").kind(), ErrorKind::kSyntax);
  std::string ifs;
  for (int i = 0; i < 1000; ++i) ifs += "{% if true %}";
  EXPECT_EQ(error_of(ifs).kind(), ErrorKind::kSyntax);
  // Unbounded recursion and deep values stop with an error.
  EXPECT_EQ(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").kind(), ErrorKind::kRuntime);
  EXPECT_EQ(error_of("{% set ns = namespace(x=[]) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% endfor %}").kind(),
            ErrorKind::kUnsupported);
  EXPECT_EQ(error_of("{{ range(1000000)|length }}").kind(), ErrorKind::kRuntime);
  EXPECT_EQ(render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}"), "<Namespace {'me': <Namespace {...}>}>");
  const ojson deep = ojson::parse(std::string(5000, '[') + std::string(5000, ']'));
  EXPECT_THROW(from_json(deep), TemplateError);
}

TEST(JinjaRender, StrftimeNow) {
  // Local time of the fixed instant, formatted by the C library as Python does.
  std::time_t t = 1721995200;
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%d %b %Y", &tm);
  EXPECT_EQ(render("{{ strftime_now('%d %b %Y') }}"), buf);
}

}  // namespace
}  // namespace dllm::jinja
