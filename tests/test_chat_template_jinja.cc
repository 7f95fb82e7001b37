// Unit tests of the Jinja interpreter behind chat templates (src/chat/jinja_*). Every expected
// string in kCases was produced by Python Jinja2 3.1.6 set up as HF transformers renders chat
// templates (trim_blocks, lstrip_blocks, loop controls, HF's tojson / raise_exception /
// strftime_now) and is compared byte for byte. The rest checks errors: the template's own
// raise_exception, Python/Jinja errors with their line, syntax errors, and hostile templates that
// must fail cleanly (never crash, hang or exhaust memory).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chat/chat_template.h"

namespace moeinfer {
namespace {

constexpr std::time_t kNow = 1721995200;  // 2024-07-26 12:00 UTC

const char* kMessages = R"([
  {"role": "system", "content": "Be brief."},
  {"role": "user", "content": "Hi  there \n"},
  {"role": "assistant", "content": "Hello!"},
  {"role": "user", "content": "Count: 1, 2, 3 — 一二三 😀"}
])";

std::string render(const std::string& tmpl, ChatRenderOptions options = {}) {
  ChatTemplate t(tmpl, "test.jinja", {{"bos_token", "<s>"}, {"eos_token", "</s>"}});
  options.add_generation_prompt = true;
  options.now = kNow;
  return t.render(nlohmann::ordered_json::parse(kMessages), options);
}

// The error a template raises, or "" when it renders.
ChatTemplateError render_error(const std::string& tmpl, ChatRenderOptions options = {}) {
  try {
    render(tmpl, options);
  } catch (const ChatTemplateError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an error from: " << tmpl;
  return ChatTemplateError("", "", false);
}

struct Case {
  const char* name;
  const char* tmpl;
  const char* want;
};

const Case kCases[] = {
    {"ws_minus", R"J(a  {%- if true %} b {% endif -%}  c)J",
     R"J(a b c)J"},
    {"ws_trim_lstrip", R"J(line1
  {% if true %}
  x
  {% endif %}
line2
)J",
     R"J(line1
  x
line2)J"},
    {"ws_var_not_lstripped", R"J(  {{ 'v' }}  
  {# c #}  
end)J",
     R"J(  v  
  
end)J"},
    {"ws_minus_newlines", R"J(a
    {%- if true -%}
   b   
{%- endif %}

c)J",
     R"J(ab
c)J"},
    {"ws_comment_minus", R"J(x {#- comment -#}  y)J",
     R"J(xy)J"},
    {"ws_comment_plus", R"J(x {#+ c +#}
y)J",
     R"J(x 
y)J"},
    {"ws_plus_disables_trim", R"J({% if true +%}
A{%+ endif %})J",
     R"J(
A)J"},
    {"ws_plus_disables_lstrip", R"J(  {%+ if true %}X{% endif %}
)J",
     R"J(  X)J"},
    {"ws_raw", R"J({% raw %}{{ not evaluated }}{% endraw %}
{%- raw -%}  {% x %}  {%- endraw %}|)J",
     R"J({{ not evaluated }}{% x %}|)J"},
    {"ws_for_lines", R"J(a
{% for i in [1,2] %}
  item {{ i }}
{% endfor %}
b)J",
     R"J(a
  item 1
  item 2
b)J"},
    {"ws_one_trailing_newline_dropped", R"J(text

)J",
     R"J(text
)J"},
    {"ws_crlf", "text\x0d""\nmore\x0d""\n{% if true %}\x0d""\nX\x0d""\n{% endif %}\x0d""\n",
     R"J(text
more
X
)J"},
    {"ws_unicode_space_lstrip", R"J(a
　{% if true %}x{% endif %})J",
     R"J(a
x)J"},
    {"str_escapes", R"J({{ 'it\'s' }} {{ "q\"q" }} {{ 'tab\tnl\nend' }} {{ '\u00e9\x41\101' }} {{ 'a' 'b' }} {{ 'bs\d' }})J",
     R"J(it's q"q tab	nl
end éAA ab bs\d)J"},
    {"str_multiline", R"J({{ 'multi
line' }}|{{ "two
  lines" }})J",
     R"J(multi
line|two
  lines)J"},
    {"numbers", R"J({{ 42 }} {{ 4.5 }} {{ 1e3 }} {{ 1_000 }} {{ 0.1 + 0.2 }} {{ 1/3 }} {{ 10/2 }} {{ 2**10 }} {{ 2**-1 }} {{ 1e16 }} {{ 1e-5 }} {{ 123456789.0 * 1000000000 }} {{ -0.0 }})J",
     R"J(42 4.5 1000.0 1000 0.30000000000000004 0.3333333333333333 5.0 1024 0.5 1e+16 1e-05 1.23456789e+17 -0.0)J"},
    {"constants", R"J({{ true }} {{ True }} {{ none }} {{ None }} {{ false }})J",
     R"J(True True None None False)J"},
    {"containers_repr", R"J({{ [1, 'a', none, true, 2.5] }} {{ (1,) }} {{ (1, 2) }} {{ () }} {{ {'a': 1, 'b': [1, {'c': none}]} }})J",
     R"J([1, 'a', None, True, 2.5] (1,) (1, 2) () {'a': 1, 'b': [1, {'c': None}]})J"},
    {"string_repr_quotes", R"J({{ ["it's", 'say "hi"', 'both \' "'] }} {{ ['\n\t\\', 'é', '\x00\x7f\xa0'] }})J",
     R"J(["it's", 'say "hi"', 'both \' "'] ['\n\t\\', 'é', '\x00\x7f\xa0'])J"},
    {"arith_int", R"J({{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 3 - 5 }} {{ -3 }} {{ +3 }} {{ 2 * 3 + 4 }} {{ 2 * (3 + 4) }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }})J",
     R"J(3 -4 1 2 3.0 0.5 -2 -3 3 10 14 64 4)J"},
    {"arith_seq", R"J({{ 'ab' * 3 }} {{ [1] * 3 }} {{ 3 * 'x' }} {{ 'a' + 'b' }} {{ [1] + [2] }} {{ 'a' ~ 1 ~ none ~ true }} {{ 'x' ~ 5 // 2 ~ 'y' }})J",
     R"J(ababab [1, 1, 1] xxx ab [1, 2] a1NoneTrue x2y)J"},
    {"compare", R"J({{ true + true }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1,2] < [1,3] }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 != 2 }} {{ (1, 2) == [1, 2] }} {{ {'a':1} == {'a':1.0} }})J",
     R"J(2 True True True True True False True False True)J"},
    {"percent_format", R"J({{ '%s and %d' % ('a', 3) }} {{ '%05.2f|%-4s|%r' % (3.14159, 'x', 'y') }} {{ '%(a)s' % {'a': 1} }} {{ '%s'|format('f') }})J",
     R"J(a and 3 03.14|x   |'y' 1 f)J"},
    {"and_or_not", R"J({{ 0 or 'x' }} {{ 1 and 'y' }} {{ '' and 'z' }} {{ none or [] }} {{ not 0 }} {{ not 'a' }} {{ 'a' if true else 'b' }} {{ 'a' if false else 'b' }} [{{ 'a' if false }}])J",
     R"J(x y  [] True False a b [])J"},
    {"short_circuit", R"J({{ false and missing.attr }} {{ true or missing.attr }} {{ missing is defined and missing.attr }})J",
     R"J(False True False)J"},
    {"in_not_in", R"J({{ 'a' in 'cat' }} {{ 2 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'cat' }} {{ 1 not in [1] }} {{ 'x' in undefined_thing }} {{ 'role' in messages[0] }})J",
     R"J(True True True True False False True)J"},
    {"precedence", R"J({{ not x is defined }} {{ x is not defined }} {{ -2|abs }} {{ 'a' + 'b' | upper }} {% set c = 'p' + messages[1]['content'] | trim + 'q' %}{{ c }})J",
     R"J(True True 2 aB pHi  thereq)J"},
    {"undefined_lenient", R"J([{{ missing }}][{{ missing|length }}][{{ missing|default('d') }}][{% for x in missing %}x{% endfor %}][{{ missing is defined }}][{{ missing is none }}][{{ missing == none }}][{{ missing != false }}])J",
     R"J([][0][d][][False][False][False][True])J"},
    {"undefined_members", R"J([{{ messages[0].nope }}][{{ messages[0]['nope'] }}][{{ messages[99] }}][{{ messages[0].get('nope', 'dflt') }}][{{ none.x }}][{{ (none)['x'] }}])J",
     R"J([][][][dflt][][])J"},
    {"undefined_soft_ops", R"J({{ missing ~ 'x' }}|{{ missing|string }}|{{ missing|trim }}|{{ missing|list }}|{{ missing|join(',') }}|{{ missing|first }}|{{ missing|items|list }})J",
     R"J(x|||[]|||[])J"},
    {"subscripts", R"J({{ messages[1:] | length }} {{ messages[-1].role }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ [1,2,3,4,5][::2] }} {{ [1,2,3][5:] }} {{ 'héllo'[1] }} {{ [1,2,3][-5:2] }} {{ 'abc'[-1] }} {{ messages.0.role }} {{ [1,2,3][::-2] }})J",
     R"J(3 user el olleh [1, 3, 5] [] é [1, 2] c system [3, 1])J"},
    {"attr_vs_item", R"J({% for message in messages %}{{ message.role }}={{ message['role'] }} {% endfor %}{{ {'items': 5}['items'] }} {{ {'items': 5}.items is defined }})J",
     R"J(system=system user=user assistant=assistant user=user 5 True)J"},
    {"loop_vars", R"J({% for m in messages %}{{ loop.index0 }}/{{ loop.index }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.depth }} {% endfor %})J",
     R"J(0/1/4/3/True/False/4/1 1/2/3/2/False/False/4/1 2/3/2/1/False/False/4/1 3/4/1/0/False/True/4/1 )J"},
    {"loop_inline_if", R"J({% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }}{{ '' if loop.last else ' ' }}{% else %}none{% endfor %})J",
     R"J(1:user 2:assistant 3:user)J"},
    {"loop_else", R"J({% for m in [] %}x{% else %}empty{% endfor %}{% for m in missing %}x{% else %}!{% endfor %})J",
     R"J(empty!)J"},
    {"loop_items", R"J({% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}{% for k, v in {'a': 1, 'b': 2}|items %}{{ k }}={{ v }};{% endfor %}{% for k in {'x': 1, 'y': 2} %}{{ k }}{% endfor %})J",
     R"J(a=1;b=2;a=1;b=2;xy)J"},
    {"loop_break_continue", R"J({% for i in range(10) %}{% if i == 5 %}{% break %}{% endif %}{% if i % 2 %}{% continue %}{% endif %}{{ i }}{% endfor %})J",
     R"J(024)J"},
    {"loop_unpack", R"J({% for a, b in [[1, 2], [3, 4]] %}{{ a + b }},{% endfor %}{% for c in 'héy' %}[{{ c }}]{% endfor %})J",
     R"J(3,7,[h][é][y])J"},
    {"loop_nested", R"J({% for i in range(3) %}{% for j in range(2) %}{{ loop.index }}{{ i }}{% endfor %}|{{ loop.index }}{% endfor %})J",
     R"J(1020|11121|21222|3)J"},
    {"loop_prev_next_cycle", R"J({% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('a','b') }} {% endfor %})J",
     R"J(-2-a 1-3-b 2--a )J"},
    {"loop_changed", R"J({% for x in [1,1,2,3,3] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %})J",
     R"J(123)J"},
    {"loop_else_unless_a_body_completes", R"J({% for x in [1,2] %}{% continue %}{% else %}E{% endfor %}{% for x in [1,2] %}{% if x == 2 %}{% continue %}{% endif %}{% else %}F{% endfor %}{% for x in [1] %}{% break %}{% else %}G{% endfor %})J",
     R"J(EG)J"},
    {"loop_range", R"J({% for x in range(1, 10, 3) %}{{ x }}{% endfor %}{% for x in range(5, 0, -2) %}{{ x }}{% endfor %}{{ range(3)|list }})J",
     R"J(147531[0, 1, 2])J"},
    {"loop_recursive", R"J({% for item in [{'n': 'a', 'c': [{'n': 'b', 'c': []}]}, {'n': 'd', 'c': []}] recursive %}{{ item.n }}{{ loop.depth }}({{ loop(item.c) }}){% endfor %})J",
     R"J(a1(b2())d1())J"},
    {"scope_if", R"J({% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }})J",
     R"J(2)J"},
    {"scope_for", R"J({% set x = 1 %}{% for i in [1,2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }})J",
     R"J(231)J"},
    {"scope_for_iteration", R"J({% for m in messages %}{% if loop.first %}{% set y = 'first' %}{% endif %}[{{ y }}]{% endfor %})J",
     R"J([first][][][])J"},
    {"namespace", R"J({% set ns = namespace(x=1, found=false) %}{% for i in [1,2] %}{% set ns.x = ns.x + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.x }} {{ ns.found }} {{ ns }})J",
     R"J(4 True <Namespace {'x': 4, 'found': True}>)J"},
    {"set_tuple", R"J({% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = [3, 4] %}{% set d, e = c %}{{ d }}{{ e }})J",
     R"J(1234)J"},
    {"set_block", R"J({% set block %}  inner {{ 1 + 1 }}
{% endset %}[{{ block }}]{% set up | upper %}abc{% endset %}{{ up }})J",
     R"J([  inner 2
]ABC)J"},
    {"with", R"J({% with a = 5, b = 'x' %}{{ a }}{{ b }}{% endwith %}[{{ a }}])J",
     R"J(5x[])J"},
    {"set_messages_slice", R"J({% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}{% set messages = messages[1:] %}{% endif %}{{ system }}|{{ messages|length }})J",
     R"J(Be brief.|3)J"},
    {"macro_defaults", R"J({% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Bob') }} {{ greet('Al', greeting='Hi') }} {{ greet(name='X', greeting='Yo') }})J",
     R"J(Hello, Bob! Hi, Al! Yo, X!)J"},
    {"macro_varargs", R"J({% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k=4) }})J",
     R"J(1(2, 3){'k': 4})J"},
    {"macro_recursive", R"J({% macro render(x) %}{% if x is mapping %}{% for k, v in x.items() %}{{ k }}:{{ render(v) }};{% endfor %}{% else %}{{ x }}{% endif %}{% endmacro %}{{ render({'a': {'b': 1, 'c': [1]}}) }})J",
     R"J(a:b:1;c:[1];;)J"},
    {"macro_closure_late_binding", R"J({% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }}{% macro d(a, b=a * 2) %}{{ a }}{{ b }}{% endmacro %}{{ d(3) }})J",
     R"J(236)J"},
    {"macro_missing_arg", R"J({% macro m(a, b) %}[{{ a }}][{{ b }}]{% endmacro %}{{ m(1) }})J",
     R"J([1][])J"},
    {"call_block", R"J({% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inside{% endcall %})J",
     R"J(<inside>)J"},
    {"call_block_args", R"J({% macro list(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) list([1,2]) %}[{{ x }}]{% endcall %})J",
     R"J([1][2])J"},
    {"filter_block", R"J({% filter upper %}shout {{ 'this' }}{% endfilter %})J",
     R"J(SHOUT THIS)J"},
    {"generation_tag", R"J({% generation %}gen {{ 1 }}{% endgeneration %})J",
     R"J(gen 1)J"},
    {"globals", R"J({{ dict(a=1, b=2) }} {{ namespace(a=1).a }}{% set j = joiner('; ') %} {% for i in [1,2,3] %}{{ j() }}{{ i }}{% endfor %})J",
     R"J({'a': 1, 'b': 2} 1 1; 2; 3)J"},
    {"tests_types", R"J({{ 1 is number }} {{ true is number }} {{ true is integer }} {{ 1.0 is float }} {{ 1 is integer }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is iterable }} {{ 'x' is iterable }} {{ {} is sequence }} {{ 1 is sequence }} {{ none is none }} {{ true is boolean }} {{ 1 is boolean }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ missing is undefined }} {{ missing is iterable }})J",
     R"J(True True False True True True True True True True False True True False True False True True True)J"},
    {"tests_values", R"J({{ 2.5 is odd }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 'a' is equalto 'a' }} {{ 1 is eq 1 }} {{ 2 is gt 1 }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 1 is in [1,2] }} {{ none is sameas none }} {{ false is sameas false }} {{ 0 is sameas false }} {{ range is callable }})J",
     R"J(False True True True True True True True True True True True False True)J"},
    {"select_reject", R"J({{ messages|selectattr('role', 'equalto', 'user')|list|length }} {{ messages|rejectattr('role', 'eq', 'user')|map(attribute='role')|join(',') }} {{ messages|map(attribute='role')|unique|list }} {{ [1, 0, 2, none]|select|list }} {{ [1,2,3,4]|reject('odd')|list }} {{ [1,2,3]|select('gt', 1)|list }} {{ messages|selectattr('tool_calls', 'defined')|list }})J",
     R"J(2 system,assistant ['system', 'user', 'assistant'] [1, 2] [2, 4] [2, 3] [])J"},
    {"generator_truthy", R"J({% if messages|selectattr('role', 'eq', 'nobody') %}truthy-generator{% endif %}{% if messages|selectattr('role', 'eq', 'nobody')|list %}{% else %} empty-list{% endif %})J",
     R"J(truthy-generator empty-list)J"},
    {"filters_string", R"J([{{ '  x y  '|trim }}][{{ 'xxhixx'|trim('x') }}][{{ none|trim }}][{{ 'Hello'|upper }}][{{ 'Hello'|lower }}][{{ 'hello WORLD'|capitalize }}][{{ "they're bill's-friend (a)[b]"|title }}][{{ ' 　x '|trim }}])J",
     R"J([x y][hi][None][HELLO][hello][Hello world][They're Bill's-Friend (A)[B]][x])J"},
    {"filters_replace_numbers", R"J({{ 'aaa'|replace('a', 'b') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }} {{ 42|string }}{{ [1]|string }} {{ '3'|int + 1 }} {{ '3.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '2.5'|float }} {{ 'a'|float }} {{ -3|abs }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 2.1|round(method='ceil') }} {{ 7|round }})J",
     R"J(bbb bba -a-b-c- 42[1] 4 3 0 7 3 2.5 0.0 3 2.0 4.0 2.67 3.0 7)J"},
    {"filters_seq", R"J({{ [3,1,2]|sort }} {{ ['b','A','c']|sort }} {{ ['b','A','c']|sort(case_sensitive=true) }} {{ [3,1,2]|sort(reverse=true) }} {{ messages|sort(attribute='role')|map(attribute='role')|list }} {{ [1,2,3]|first }} {{ [1,2,3]|last }} {{ 'abc'|first }} {{ []|first }} {{ [1,2,3]|sum }} {{ [3,1,2]|min }} {{ [3,1,2]|max }} {{ ['a','B']|max }})J",
     R"J([1, 2, 3] ['A', 'b', 'c'] ['A', 'b', 'c'] [3, 2, 1] ['assistant', 'system', 'user', 'user'] 1 3 a  6 1 3 B)J"},
    {"filters_join_list", R"J({{ [1,2,3]|join }} {{ [1,2,3]|join(', ') }} {{ messages|join('|', attribute='role') }} {{ 'abc'|list }} {{ {'a':1}|list }} {{ [1,2,3]|reverse|list }} {{ 'abc'|reverse }} {{ [1,2,3,4,5]|batch(2)|list }} {{ [1,2,3]|batch(2, 'x')|list }} {{ {'b': 1, 'a': 2}|dictsort }})J",
     R"J(123 1, 2, 3 system|user|assistant|user ['a', 'b', 'c'] ['a'] [3, 2, 1] cba [[1, 2], [3, 4], [5]] [[1, 2], [3, 'x']] [('a', 2), ('b', 1)])J"},
    {"filters_map", R"J({{ ['a', 'b']|map('upper')|list }} {{ [' a ', 'b ']|map('trim')|join }} {{ messages|map(attribute='nope', default='D')|list }} {{ [{'a': {'b': 5}}]|map(attribute='a.b')|list }} {{ ['1', '2']|map('int')|sum }})J",
     R"J(['A', 'B'] ab ['D', 'D', 'D', 'D'] [5] 3)J"},
    {"filters_misc", R"J({{ 'x'|default('y') }} {{ ''|default('y') }} {{ ''|default('y', true) }} {{ none|d('z') }} {{ 'abc'|length }} {{ 'héllo😀'|length }} {{ {'a': 1}|count }} {{ 'a
b'|indent(2) }}|{{ 'a
b

c'|indent(2, true) }}|{{ 'a

b'|indent(2, blank=true) }}|{{ 'x'|center(7) }}| {{ '<a href="x">&\'</a>'|e }} {{ 'x'|safe }} {{ 'one two-three'|wordcount }})J",
     R"J(x  y None 3 6 1 a
  b|  a
  b

  c|a
  
  b|   x   | &lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt; x 3)J"},
    {"tojson", R"J({{ messages[0]|tojson }}|{{ {'b': 1, 'a': [1, 2.5, none, true, 'é"\n']}|tojson }}|{{ [1, {'x': []}, {}]|tojson(indent=2) }}|{{ {'z':1,'a':2}|tojson(sort_keys=true) }}|{{ 'é😀'|tojson(ensure_ascii=true) }}|{{ {'a':1}|tojson(separators=(',', ':')) }}|{{ 1e20|tojson }}|{{ 'tab\there\u0001<>&'|tojson }})J",
     R"J({"role": "system", "content": "Be brief."}|{"b": 1, "a": [1, 2.5, null, true, "é\"\n"]}|[
  1,
  {
    "x": []
  },
  {}
]|{"a": 2, "z": 1}|"\u00e9\ud83d\ude00"|{"a":1}|1e+20|"tab\there\u0001<>&")J"},
    {"tojson_nested_indent", R"J({{ {'a': {'b': {'c': [1, [2, [3]]]}}}|tojson(indent=4) }}|{{ [1,2]|tojson(indent='\t') }}|{{ (1, 'x')|tojson }}|{{ {1: 'a', none: 'b', 2.5: 'c', true: 'd'}|tojson }})J",
     R"J({
    "a": {
        "b": {
            "c": [
                1,
                [
                    2,
                    [
                        3
                    ]
                ]
            ]
        }
    }
}|[
	1,
	2
]|[1, "x"]|{"1": "d", "null": "b", "2.5": "c"})J"},
    {"methods_str", R"J({{ '  x  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  x'.lstrip() }}|{{ 'x  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a.b.c'.rsplit('.', 1) }}|{{ 'Hello'.startswith('He') }}|{{ 'Hello'.endswith(('x', 'lo')) }}|{{ 'hello world'.title() }}|{{ "they're".title() }}|{{ 'AbC'.upper() }}{{ 'AbC'.lower() }}|{{ 'aXa'.replace('a', 'b') }})J",
     R"J(x|a|x|x|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|['a.b', 'c']|True|True|Hello World|They'Re|ABCabc|bXb)J"},
    {"methods_str2", R"J({{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.count('l') }} {{ ', '.join(['a', 'b']) }} {{ 'abc'.capitalize() }} {{ '42'.isdigit() }} {{ 'ab'.isalpha() }} {{ ' '.isspace() }} {{ 'x'.zfill(3) }} {{ 'a\nb\r\nc'.splitlines() }} {{ 'k=v'.partition('=') }} {{ 'abc'.removeprefix('a') }} {{ '{} and {}'.format(1, 'x') }} {{ '{0}{name}'.format('a', name='b') }})J",
     R"J(2 3 2 a, b Abc True True True 00x ['a', 'b', 'c'] ('k', '=', 'v') bc 1 and x ab)J"},
    {"methods_think_split", R"J({% set c = '<think>\nplan\n</think>\n\nanswer' %}{{ c.split('</think>')[-1].lstrip('\n') }}|{{ c.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') }})J",
     R"J(answer|plan)J"},
    {"methods_dict_list", R"J({{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b') }} {{ {'a': 1}.get('b', 2) }} {{ {'a': 1, 'b': 2}.keys()|list }} {{ {'a': 1, 'b': 2}.values()|list }} {{ {'a': 1}.items()|list }} {{ [1,2,1].count(1) }} {{ [1,2].index(2) }})J",
     R"J(1 None 2 ['a', 'b'] [1, 2] [('a', 1)] 2 1)J"},
    {"special_tokens", R"J({{ bos_token }}{{ eos_token }}[{{ unk_token }}]{{ bos_token is defined }}{{ pad_token is defined }})J",
     R"J(<s></s>[]TrueFalse)J"},
    {"default_variables", R"J({{ tools is none }}{{ tools is defined }}{{ documents }}{{ add_generation_prompt }})J",
     R"J(TrueTrueNoneTrue)J"},
    {"strftime_now", R"J({{ strftime_now('%Y-%m-%d|%d %b %Y|%B %A') }})J",
     R"J(2024-07-26|26 Jul 2024|July Friday)J"},
    {"message_repr", R"J({{ messages[0] }}{{ messages[1:2] }})J",
     R"J({'role': 'system', 'content': 'Be brief.'}[{'role': 'user', 'content': 'Hi  there \n'}])J"},
};

class JinjaCase : public ::testing::TestWithParam<Case> {};

TEST_P(JinjaCase, MatchesJinja2) {
  const Case& c = GetParam();
  EXPECT_EQ(render(c.tmpl), c.want) << "template: " << c.tmpl;
}

INSTANTIATE_TEST_SUITE_P(ChatTemplate, JinjaCase, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(ChatTemplateErrors, RaiseExceptionCarriesTheTemplatesMessage) {
  ChatTemplateError e = render_error("{{ raise_exception('custom error: ' ~ messages|length) }}");
  EXPECT_TRUE(e.raised());
  EXPECT_EQ(e.message(), "custom error: 4");
  EXPECT_STREQ(e.what(), "test.jinja: chat_template: custom error: 4");
  e = render_error("{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('No system') }}{% endif %}{% endfor %}");
  EXPECT_TRUE(e.raised());
  EXPECT_EQ(e.message(), "No system");
}

TEST(ChatTemplateErrors, RuntimeErrorsNameTheLine) {
  struct Want {
    const char* tmpl;
    const char* message;
  };
  const Want wants[] = {
      {"{{ missing.attr }}", "line 1: 'missing' is undefined"},
      {"a\nb\n{{ missing + 'x' }}", "line 3: 'missing' is undefined"},
      {"{{ 1 / 0 }}", "line 1: division by zero"},
      {"{{ 'a' + 1 }}", "line 1: can only concatenate str (not \"int\") to str"},
      {"{{ 1 < 'a' }}", "line 1: '<' not supported between instances of 'int' and 'str'"},
      {"{{ none|length }}", "line 1: object of type 'NoneType' has no len()"},
      {"{{ foo() }}", "line 1: 'foo' is undefined"},
      {"\n{{ 'x'|nosuchfilter }}", "line 2: no filter named 'nosuchfilter'"},
      {"{{ 1 is nosuchtest }}", "line 1: no test named 'nosuchtest'"},
      {"{{ [1].append(2) }}", "line 1: access to attribute 'append' of 'list' object is unsafe."},
      {"{{ missing|tojson }}", "line 1: Object of type Undefined is not JSON serializable"},
      {"{% for x in none %}{% endfor %}", "line 1: 'NoneType' object is not iterable"},
      {"{% set a, b = [1] %}", "line 1: not enough values to unpack (expected 2, got 1)"},
      {"{% set x = 1 %}{% set x.y = 2 %}", "line 1: cannot assign attribute on non-namespace object"},
      {"{% set n = 7 %}{{ n[1:] }}", "line 1: 'int' object is not subscriptable"},
      {"{% macro m(x) %}{% endmacro %}{{ m(1, 2) }}", "line 1: macro 'm' takes not more than 1 argument(s)"},
      {"{% macro m(x) %}{% endmacro %}{{ m(y=1) }}", "line 1: macro 'm' takes no keyword argument 'y'"},
      {"{{ range(1000000)|length }}", "line 1: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000)."},
  };
  for (const Want& w : wants) {
    ChatTemplateError e = render_error(w.tmpl);
    EXPECT_FALSE(e.raised()) << w.tmpl;
    EXPECT_EQ(e.message(), w.message) << w.tmpl;
  }
}

// Syntax errors are reported when the template is compiled, with the line of the culprit.
TEST(ChatTemplateErrors, SyntaxErrorsNameTheLine) {
  struct Want {
    const char* tmpl;
    const char* line;    // "line N: " prefix expected
    const char* phrase;  // part of the message
  };
  const Want wants[] = {
      {"{% if x %}never closed", "line 1: ", "'endif'"},
      {"{% for x in y %}\n\n", "line 2: ", "'endfor'"},
      {"a\n{{ x ", "line 2: ", "expected '}}'"},
      {"{# comment", "line 1: ", "comment"},
      {"{{ 'abc }}", "line 1: ", "unterminated string"},
      {"x\n{% endif %}", "line 2: ", "unknown tag 'endif'"},
      {"{% if %}{% endif %}", "line 1: ", "expected an expression"},
      {"{{ (1 }}", "line 1: ", "unexpected '}'"},
      {"{{ 1 + }}", "line 1: ", "unexpected end of print statement"},
      {"{% set %}", "line 1: ", "end of statement block"},
      {"{% macro %}{% endmacro %}", "line 1: ", "expected a name"},
      {"\n\n{% break %}", "line 3: ", "'break' outside of a loop"},
      {"{{ x | }}", "line 1: ", "expected a name"},
      {"{% raw %}abc", "line 1: ", "raw"},
      {"{{ '\\x4' }}", "line 1: ", "escape"},
      {"{{ 1 is }}", "line 1: ", "expected a name"},
      {"{% include 'x' %}", "line 1: ", "not supported"},
      {"{% for %}", "line 1: ", "expected an expression"},
      {"{{ 010 }}", "line 1: ", "leading zeros"},
      {"{{ @ }}", "line 1: ", "unexpected char '@'"},
      {"{% if a %}{% else %}{% else %}{% endif %}", "line 1: ", "unknown tag 'else'"},
      {"{{ 99999999999999999999 }}", "line 1: ", "too large"},
  };
  for (const Want& w : wants) {
    try {
      ChatTemplate t(w.tmpl, "bad.jinja", nlohmann::ordered_json::object());
      ADD_FAILURE() << "expected a syntax error from: " << w.tmpl;
    } catch (const ChatTemplateError& e) {
      EXPECT_FALSE(e.raised());
      EXPECT_EQ(e.message().rfind(w.line, 0), 0u) << w.tmpl << " -> " << e.message();
      EXPECT_NE(e.message().find(w.phrase), std::string::npos) << w.tmpl << " -> " << e.message();
      EXPECT_EQ(std::string(e.what()).rfind("bad.jinja: chat_template: ", 0), 0u) << e.what();
    }
  }
}

TEST(ChatTemplateErrors, InvalidUtf8TemplateIsRejected) {
  EXPECT_THROW(ChatTemplate("{{ 'a\xff' }}", "bad.jinja", nlohmann::ordered_json::object()), ChatTemplateError);
}

// Hostile templates: each must end in a clean error (not a crash, a hang or a blown stack).
TEST(ChatTemplateErrors, HostileTemplatesFailCleanly) {
  auto syntax_fails = [](const std::string& tmpl) {
    EXPECT_THROW(ChatTemplate(tmpl, "bad.jinja", nlohmann::ordered_json::object()), ChatTemplateError)
        << tmpl.substr(0, 60);
  };
  syntax_fails("{{ " + std::string(100000, '(') + " }}");
  syntax_fails("{{ " + std::string(100000, '[') + " }}");
  std::string chain = "{{ 1";
  for (int i = 0; i < 100000; ++i) chain += "+1";
  syntax_fails(chain + " }}");
  std::string nots = "{{ ";
  for (int i = 0; i < 100000; ++i) nots += "not ";
  syntax_fails(nots + "1 }}");
  std::string conds = "{{ 1";
  for (int i = 0; i < 100000; ++i) conds += " if 1 else 1";
  syntax_fails(conds + " }}");
  std::string ifs;
  for (int i = 0; i < 100000; ++i) ifs += "{% if true %}";
  syntax_fails(ifs);
  std::string elifs = "{% if false %}";
  for (int i = 0; i < 100000; ++i) elifs += "{% elif false %}";
  syntax_fails(elifs + "{% endif %}");

  ChatRenderOptions small;
  small.max_steps = 200000;
  EXPECT_NE(render_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", small)
                .message()
                .find("step budget"),
            std::string::npos);
  EXPECT_NE(render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").message().find("recursion"),
            std::string::npos);
  EXPECT_NE(render_error("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}").message().find("recursion"),
            std::string::npos);
  ChatRenderOptions tiny;
  tiny.max_output_bytes = 1 << 20;
  EXPECT_NE(render_error("{{ 'x' * 100000000 }}", tiny).message().find("limit"), std::string::npos);
  EXPECT_NE(render_error("{% for i in range(100000) %}{{ 'abcdefghijklmnopqrstuvwxyz' }}{% endfor %}", tiny)
                .message()
                .find("limit"),
            std::string::npos);
  EXPECT_NE(render_error("{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}"
                         "{% endfor %}{{ ns.x }}")
                .message()
                .find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(render_error("{% set ns = namespace(x=none) %}{% for i in range(100000) %}"
                         "{% set ns.x = namespace(y=ns.x) %}{% endfor %}")
                .message()
                .find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(render_error("{{ 2 ** 64 }}").message().find("overflow"), std::string::npos);
}

// Truncations and byte mutations of a real template never crash: they render or throw.
TEST(ChatTemplateErrors, MutatedTemplatesNeverCrash) {
  const std::string base =
      "{%- if messages[0]['role'] == 'system' %}{%- set sys = messages[0]['content']|trim %}"
      "{%- set messages = messages[1:] %}{%- else %}{%- set sys = '' %}{%- endif %}"
      "{%- set ns = namespace(n=0) %}{% for m in messages if m.role != 'tool' %}"
      "{{- '<|' ~ m.role ~ '|>' + m['content'] | trim ~ (loop.last and '!' or '') }}"
      "{%- set ns.n = ns.n + 1 %}{% if loop.index0 % 2 %}{{ m|tojson(indent=2) }}{% endif %}{% endfor %}"
      "{# done #}{{ ns.n ~ sys[1:3] ~ ' ' ~ 'a,b'.split(',')|join('-') }}{% if add_generation_prompt %}x{% endif %}";
  EXPECT_NO_THROW(render(base));
  uint32_t seed = 12345;
  auto next = [&] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  const std::string alphabet = "{}%#-+()[]'\".|,:=~*/ \nabcifsetndorx0129";
  for (int i = 0; i < 3000; ++i) {
    std::string t = base;
    if (i < static_cast<int>(base.size())) {
      t = base.substr(0, static_cast<size_t>(i));
    } else {
      for (int k = 0, n = 1 + static_cast<int>(next() % 4); k < n; ++k)
        t[next() % t.size()] = alphabet[next() % alphabet.size()];
    }
    try {
      render(t);
    } catch (const ChatTemplateError&) {
    }
  }
}

TEST(ChatTemplateApi, ExtraVariablesAndNoGenerationPrompt) {
  ChatTemplate t("{% if add_generation_prompt %}gen{% endif %}{{ tools|length if tools else tools }}{{ enable_thinking }}",
                 "v.jinja",
                 nlohmann::ordered_json::object());
  ChatRenderOptions o;
  o.variables = {{"tools", nlohmann::ordered_json::array({1, 2})}, {"enable_thinking", false}};
  EXPECT_EQ(t.render(nlohmann::ordered_json::array(), o), "2False");
  EXPECT_EQ(t.render(nlohmann::ordered_json::array(), true), "genNone");  // tools is None, as in HF
}

TEST(ChatTemplateApi, ContentOfAnyJsonTypePassesThrough) {
  ChatTemplate t("{% for m in messages %}{{ m.content }}|{{ m.content|tojson }}|{% endfor %}", "v.jinja",
                 nlohmann::ordered_json::object());
  const auto msgs = nlohmann::ordered_json::parse(
      R"([{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image"}]},{"role":"user","content":null},)"
      R"({"role":"user","content":{"z":1,"a":[1.0,2.5e-7,true]}},{"role":"user","content":12}])");
  EXPECT_EQ(t.render(msgs, false),
            "[{'type': 'text', 'text': 'hi'}, {'type': 'image'}]|[{\"type\": \"text\", \"text\": \"hi\"}, {\"type\": "
            "\"image\"}]|None|null|{'z': 1, 'a': [1.0, 2.5e-07, True]}|{\"z\": 1, \"a\": [1.0, 2.5e-07, true]}|12|12|");
}

}  // namespace
}  // namespace moeinfer
