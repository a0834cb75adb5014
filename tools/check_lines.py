"""Readable library code: no line of cumdr/*.py over 120 characters and no two statements on one line (`a; b`, or
a compound statement's body on its header's line: `if x: return y`).

Usage: python tools/check_lines.py [--limit N] [FILE ...]   (default: every module of cumdr/ but nbdev's _modidx.py)
       python tools/check_lines.py --notebooks [--limit N] [NB ...]   (default: every notebook under nbs/)

nbdev writes the `__all__` list of a module on lines of its own making; those lines are not counted. Exits non-zero
and lists every offending line otherwise.

--notebooks checks the code cells nbdev does not export (no `#| export`, `#| exporti`, `#| exports` line; those
cells are checked as the modules they become) for lines over 100 characters, IPython magic and shell lines (`%`,
`!`) apart. Each offender prints as `path:cell:line: N chars`, the cell counted from 0 among all of the notebook's
cells, the line from 1 within the cell.
"""
import argparse
import ast
import io
import json
import re
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPORTED = re.compile(r'^#\|\s*export')   # #| export, #|export, #| exporti, #| exports


def joined_statements(tree: ast.AST) -> list[int]:
    "Line numbers where a statement starts on the line the previous statement of the same block ends (`a; b`)."
    lines = []
    for node in ast.walk(tree):
        for field in ('body', 'orelse', 'finalbody', 'handlers'):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            stmts = [s for s in block if isinstance(s, (ast.stmt, ast.excepthandler))]
            for prev, nxt in zip(stmts, stmts[1:]):
                if prev.end_lineno == nxt.lineno:
                    lines.append(nxt.lineno)
    return sorted(lines)


COMPOUND = {'if', 'elif', 'else', 'for', 'while', 'with', 'try', 'except', 'finally', 'def', 'class', 'async'}


def body_on_header_line(text: str) -> list[int]:
    "Line numbers where a compound statement's header (`if ...:`, `else:`, `def ...:`) has its body after the colon."
    lines, start, depth, lam, seek = [], True, 0, 0, False
    for t in tokenize.generate_tokens(io.StringIO(text).readline):
        if t.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING):
            continue
        if t.type == tokenize.NEWLINE:
            start, seek, lam = True, False, 0
            continue
        if start:   # the first token of a logical line
            start = False
            seek = t.type == tokenize.NAME and t.string in COMPOUND
            header_line = t.start[0]
            if t.type == tokenize.OP and t.string == '@':
                seek = False
        if t.type == tokenize.OP and t.string in '([{':
            depth += 1
        elif t.type == tokenize.OP and t.string in ')]}':
            depth -= 1
        elif seek and t.type == tokenize.NAME and t.string == 'lambda' and depth == 0:
            lam += 1
        elif seek and t.type == tokenize.OP and t.string == ':' and depth == 0:
            if lam:
                lam -= 1
                continue
            seek = 'after'
            continue
        if seek == 'after':   # a token after the header's colon on its line: the body
            if t.start[0] == header_line:
                lines.append(header_line)
            seek = False
    return lines


def problems(path: Path, limit: int) -> list[str]:
    text = path.read_text(encoding='utf-8')
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    out = []
    in_all = False
    for number, line in enumerate(text.split('\n'), 1):
        in_all = line.startswith('__all__ = [') or (in_all and line.startswith(' '))
        if len(line) > limit and not in_all:
            out.append(f'{name}:{number}: {len(line)} characters (limit {limit})')
    for number in joined_statements(ast.parse(text)):
        out.append(f'{name}:{number}: two statements on one line')
    for number in body_on_header_line(text):
        out.append(f"{name}:{number}: a compound statement's body on its header's line")
    return out


def is_magic(line: str) -> bool:
    "An IPython line magic or shell escape (`%time ...`, `!ls`), which is not Python."
    text = line.lstrip()
    return text.startswith(('%', '!')) and not text.startswith('!=')


def notebook_problems(path: Path, limit: int) -> list[str]:
    "Lines over `limit` in the code cells of a notebook that nbdev does not export."
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    out = []
    for index, cell in enumerate(json.loads(path.read_text(encoding='utf-8')).get('cells', [])):
        source = cell.get('source', '')
        lines = (''.join(source) if isinstance(source, list) else source).split('\n')
        if cell.get('cell_type') != 'code' or any(EXPORTED.match(line) for line in lines):
            continue
        for number, line in enumerate(lines, 1):
            if len(line) > limit and not is_magic(line):
                out.append(f'{name}:{index}:{number}: {len(line)} chars')
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('files', nargs='*', type=Path)
    parser.add_argument('--limit', type=int, default=None, help='120 for modules, 100 for notebooks')
    parser.add_argument('--notebooks', nargs='*', type=Path, default=None, metavar='NB',
                        help="check notebooks' non-exported code cells instead (default: every nbs/**/*.ipynb)")
    args = parser.parse_args(argv)
    if args.notebooks is not None:
        if args.files:
            parser.error('give notebooks after --notebooks, not as FILE')
        limit = args.limit or 100
        notebooks = [f.resolve() for f in args.notebooks] or sorted((ROOT / 'nbs').glob('**/*.ipynb'))
        notebooks = [nb for nb in notebooks if '.ipynb_checkpoints' not in nb.parts]
        found = [p for nb in notebooks for p in notebook_problems(nb, limit)]
        for p in found:
            print(p)
        print(f'{len(notebooks)} notebooks: ' + (f'{len(found)} line(s) over {limit} characters' if found else
                                                 f'every non-exported code line within {limit} characters'))
        return 1 if found else 0
    args.limit = args.limit or 120
    files = [f.resolve() for f in args.files] or sorted(p for p in (ROOT / 'cumdr').glob('*.py')
                                                         if p.name != '_modidx.py')
    found = [p for f in files for p in problems(f, args.limit)]
    for p in found:
        print(p)
    print(f'{len(files)} files: ' + (f'{len(found)} problem(s)' if found else f'every line within {args.limit} '
                                      'characters, one statement per line'))
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
