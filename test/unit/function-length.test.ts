import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Lines a function in src/ may span, from its first line to its closing brace. Lower it towards 80
 * as the code allows.
 */
const MAX_LINES = 100;

/** Files whose one long function is a list of data, not logic: the schema's migrations. */
const DATA = ['storage/migration-list.ts'];

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(`${path}/`);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function longFunctions(path: string): string[] {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const line = (pos: number) => file.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = line(node.getStart(file));
      const lines = line(node.getEnd()) - first + 1;
      if (lines > MAX_LINES) found.push(`${relative(SRC, path)}:${first} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

test(`no function in src/ spans more than ${MAX_LINES} lines`, () => {
  const checked = sourceFiles(SRC).filter(
    (path) => !DATA.some((skip) => relative(SRC, path).startsWith(skip)),
  );
  assert.ok(checked.length > 50, 'the source files were found');
  assert.deepEqual(checked.flatMap(longFunctions), []);
});
