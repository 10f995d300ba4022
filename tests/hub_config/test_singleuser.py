"""terralab.hub.singleuser: users' servers import rfc3987_syntax on first use, same answers."""

import subprocess
import sys

CODE = """
import sys
{prepare}
import jsonschema
print("loaded at import:", "rfc3987_syntax.syntax_helpers" in sys.modules)
from jsonschema import Draft202012Validator as V
check = V({{"type": "string", "format": "iri"}}, format_checker=V.FORMAT_CHECKER)
print([check.is_valid(x) for x in ["http://例え.jp/パス?q=1", "not an iri", "http://a b"]])
ref = V({{"type": "string", "format": "iri-reference"}}, format_checker=V.FORMAT_CHECKER)
print([ref.is_valid(x) for x in ["../a?b#c", "a b"]])
import rfc3987_syntax
print(rfc3987_syntax.RFC3987_SYNTAX_PARSER_TYPE, rfc3987_syntax.is_valid_syntax("iri", "x:y"))
"""


def run(prepare: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", CODE.format(prepare=prepare)],
                          capture_output=True, text=True, check=True)
    return done.stdout.splitlines()


def test_prepare_defers_the_grammar_and_keeps_the_answers():
    plain = run("")
    deferred = run("import terralab.hub.singleuser as s; s.prepare()")
    assert plain[0] == "loaded at import: True"
    assert deferred[0] == "loaded at import: False"
    assert deferred[1:] == plain[1:]
    assert plain[1:] == ["[True, False, False]", "[True, False]", "earley True"]
