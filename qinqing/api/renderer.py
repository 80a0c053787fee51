"""The API's JSON renderer: Chinese travels as UTF-8 text, not as \\uXXXX escapes.

ninja's JSONRenderer calls json.dumps with its default ensure_ascii=True, so "待交办" went out as
"\\u5f85\\u4ea4\\u529e": six times the bytes, and unreadable in a log or with curl. The answer is declared
`application/json; charset=utf-8` and encoded as such, so the characters can travel as they are.
"""

from ninja.renderers import JSONRenderer


class Utf8JSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


RENDERER = Utf8JSONRenderer()
