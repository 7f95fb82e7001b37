#!/usr/bin/env python3
"""Renders every *.jinja here for a few conversations with Python Jinja2 set up exactly as Hugging
Face transformers renders chat templates (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
loopcontrols, the {% generation %} tag, raise_exception, strftime_now, tojson with
ensure_ascii=False), and writes golden.json. Run with Jinja2 3.1.x:  python3 make_golden.py
"""
import datetime
import glob
import json
import os

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

NOW = 1721995200  # 2024-07-26 12:00 UTC: the same calendar day in every time zone within +-11 h


class AssistantTracker(Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.datetime.fromtimestamp(NOW).strftime(fmt)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather.",
        "parameters": {"type": "object", "properties": {
            "location": {"type": "string", "description": "City and country, e.g. Paris, France"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Unit"},
            "days": {"type": "array", "items": {"type": "integer"}, "description": "Days ahead"}},
            "required": ["location"]}}},
]
SYS = {"role": "system", "content": "You are a helpful assistant.\nAnswer briefly."}
U1 = {"role": "user", "content": "What's the weather in Paris? 🌧️ «quoted»"}
A1 = {"role": "assistant", "content": "It is raining.  "}
U2 = {"role": "user", "content": "  And tomorrow?\n"}
CALL = {"role": "assistant", "content": None, "tool_calls": [{"id": "call12345", "type": "function", "function": {
    "name": "get_weather", "arguments": {"location": "Paris, France", "days": [1]}}}]}
CALL_STR = {"role": "assistant", "content": None, "tool_calls": [{"id": "call12345", "type": "function", "function": {
    "name": "get_weather", "arguments": "{\"location\": \"Paris, France\"}"}}]}
RESULT = {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "{\"temp\": 12, \"sky\": \"rain\"}"}
FINAL = {"role": "assistant", "content": "It will be 12 degrees."}
THINK = {"role": "assistant", "content": "<think>\nLet me think.\n</think>\n\nThe answer is 4."}

CONVERSATIONS = [
    ("user", [U1], True, {}),
    ("system_user", [SYS, U1], True, {}),
    ("multi_turn", [SYS, U1, A1, U2], False, {}),
    ("multi_turn_gen", [U1, A1, U2], True, {}),
    ("tools", [SYS, U1], True, {"tools": TOOLS}),
    ("tool_call", [U1, CALL, RESULT, FINAL], False, {"tools": TOOLS}),
    ("tool_call_str", [U1, CALL_STR, RESULT], True, {}),
    ("thinking", [U1, THINK, U2], True, {"enable_thinking": False}),
]
TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}


def render(template, messages, add_generation_prompt, variables):
    kw = dict(TOKENS)
    kw.update(variables)
    tools = kw.pop("tools", None)
    try:
        text = env.from_string(template).render(messages=messages, tools=tools, documents=None,
                                                add_generation_prompt=add_generation_prompt, **kw)
        return {"rendered": text}
    except jinja2.exceptions.TemplateError as e:
        return {"error": str(e), "raised": type(e) is jinja2.exceptions.TemplateError}
    except Exception as e:  # TypeError and friends: the interpreter must fail too
        return {"error": type(e).__name__ + ": " + str(e), "raised": False}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    cases = []
    for path in sorted(glob.glob(os.path.join(here, "*.jinja"))):
        with open(path, encoding="utf-8") as f:
            template = f.read()
        for name, messages, gen, variables in CONVERSATIONS:
            case = {"template": os.path.basename(path), "name": name, "messages": messages,
                    "add_generation_prompt": gen, "variables": variables}
            case.update(render(template, messages, gen, variables))
            cases.append(case)
    golden = {"now": NOW, "tokens": TOKENS, "jinja2": jinja2.__version__, "cases": cases}
    with open(os.path.join(here, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
