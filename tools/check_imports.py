#!/usr/bin/env python
"""Refuse an import cycle between the modules of the cumdr package.

Every import counts, also those inside functions: a deferred import hides a cycle from Python, not from a reader.
Usage: python tools/check_imports.py [--graph]   (exit status 1 and the cycle when there is one)
"""
import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / 'cumdr'


def imported_modules(path: Path) -> set[str]:
    "The cumdr modules that `path` imports, anywhere in the file."
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                found.add(node.module or '')
            elif node.level == 0 and (node.module or '').startswith('cumdr.'):
                found.add(node.module.split('.')[1])
            elif node.level == 0 and node.module == 'cumdr':
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split('.')[1] for a in node.names if a.name.startswith('cumdr.'))
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {p.stem for p in PACKAGE.glob('*.py') if not p.stem.startswith('_')}
    return {m: imported_modules(PACKAGE / f'{m}.py') & modules - {m} for m in sorted(modules)}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    "A list of modules forming a cycle (first repeated at the end), or None: depth-first search with colours."
    state = {}
    stack = []

    def visit(m):
        state[m] = 'open'
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 'open':
                return stack[stack.index(n):] + [n]
            if n not in state:
                cycle = visit(n)
                if cycle:
                    return cycle
        stack.pop()
        state[m] = 'done'
        return None

    for m in graph:
        if m not in state:
            cycle = visit(m)
            if cycle:
                return cycle
    return None


if __name__ == '__main__':
    graph = import_graph()
    if '--graph' in sys.argv:
        for m, deps in graph.items():
            print(f'{m:12s} <- {" ".join(sorted(deps))}')
    cycle = find_cycle(graph)
    if cycle:
        print('FAIL: import cycle in cumdr: ' + ' -> '.join(cycle))
        sys.exit(1)
    print(f'no import cycle among {len(graph)} cumdr modules')
