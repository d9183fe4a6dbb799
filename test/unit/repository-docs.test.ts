import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The repository explains itself: comments and docs cite docs/ (docs/design.md for how the hub is
 * built, the user pages for what it does), never an outside document. These checks keep it so.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The outside document's name, spelt so that this file does not cite it itself. */
const OUTSIDE_DOCUMENT = ['S', 'P', 'E', 'C'].join('');
const CITATION = new RegExp(`\\b${OUTSIDE_DOCUMENT}\\b`);

/** Every file under `path` (a file or a directory), as repository-relative paths with `/`. */
function filesUnder(path: string): string[] {
  const full = join(ROOT, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full)
    .sort()
    .flatMap((entry) => filesUnder(`${path}/${entry}`));
}

function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** A GitHub heading anchor: lower case, punctuation dropped, each space a hyphen. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings (outside code fences), repeated ones numbered as GitHub does. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

const anchorCache = new Map<string, Set<string>>();
function anchorsOfFile(path: string): Set<string> {
  let anchors = anchorCache.get(path);
  if (!anchors) {
    anchors = anchorsOf(read(path));
    anchorCache.set(path, anchors);
  }
  return anchors;
}

/** Why `docs/<file>#<anchor>` does not resolve, or undefined when it does. */
function brokenLink(file: string, anchor: string): string | undefined {
  if (!existsSync(join(ROOT, file))) return `${file} does not exist`;
  if (!anchorsOfFile(file).has(anchor)) return `${file} has no heading with the anchor #${anchor}`;
  return undefined;
}

test('the slug of a heading is GitHub’s anchor for it', () => {
  assert.equal(slug('Leases, concurrency, ordering'), 'leases-concurrency-ordering');
  assert.equal(slug('What `endpoint.json` may contain'), 'what-endpointjson-may-contain');
  assert.equal(slug('Push-time routing (one-process hubs)'), 'push-time-routing-one-process-hubs');
  assert.deepEqual([...anchorsOf('# A\n```\n# not a heading\n```\n## A\n')], ['a', 'a-1']);
});

test('no file cites the outside document: the docs in docs/ are the reference', () => {
  const paths = ['src', 'test', 'docs', 'bench', 'README.md'].flatMap(filesUnder);
  assert.ok(paths.includes('docs/design.md'), 'the walk found the docs');
  const citing: string[] = [];
  for (const path of paths) {
    const text = read(path);
    if (text.includes('\u0000')) continue; // binary
    text.split('\n').forEach((line, i) => {
      if (CITATION.test(line)) citing.push(`${path}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(citing, [], `cite docs/ instead:\n${citing.join('\n')}`);
});

test('every docs/<file>.md#anchor cited under src/ names an existing file and heading', () => {
  const broken: string[] = [];
  let cited = 0;
  for (const path of filesUnder('src')) {
    const text = read(path);
    for (const m of text.matchAll(/\bdocs\/([\w.-]+\.md)#([\w-]+)/g)) {
      cited++;
      const problem = brokenLink(`docs/${m[1]}`, m[2] ?? '');
      if (problem) broken.push(`${path}: ${m[0]}: ${problem}`);
    }
  }
  assert.ok(cited > 0, 'src/ cites docs by anchor');
  assert.deepEqual(broken, [], broken.join('\n'));
});

test('anchor links between the docs, and from README.md, resolve', () => {
  const broken: string[] = [];
  const pages = filesUnder('docs').filter((p) => p.endsWith('.md'));
  for (const path of [...pages, 'README.md']) {
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    for (const m of read(path).matchAll(/\]\(([\w./-]*?\.md)?#([\w-]+)\)/g)) {
      const target = m[1] ? posix.join(dir, m[1]) : path;
      const problem = brokenLink(target, m[2] ?? '');
      if (problem) broken.push(`${path}: ${m[0]}: ${problem}`);
    }
  }
  assert.deepEqual(broken, [], broken.join('\n'));
});

/** The README's layout table: each row's folders (first cell) and what it says they hold. */
function layoutRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of read('README.md').matchAll(/^\| (`[^|]+`) \| ([^|]+) \|$/gm)) {
    for (const folder of (m[1] ?? '').matchAll(/`([^`]+)`/g)) rows.set(folder[1] ?? '', m[2] ?? '');
  }
  return rows;
}

/** Folders of the repository a newcomer reads, as `path/`: the top level and everything under src/. */
function folders(path: string, depth: number): string[] {
  const full = path === '' ? ROOT : join(ROOT, path);
  return readdirSync(full, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !/^(\.|node_modules$|dist$|data$)/.test(e.name))
    .flatMap((e) => {
      const folder = `${path}${e.name}/`;
      return depth > 1 ? [folder, ...folders(folder, depth - 1)] : [folder];
    });
}

test("README's layout table names every folder, in a row of its own or its parent's", () => {
  const rows = layoutRows();
  const wanted = [...folders('', 1), ...folders('src/', 3), 'bench/probes/'];
  const missing = wanted.filter((folder) => {
    if (rows.has(folder)) return false;
    const parent = folder.slice(0, folder.slice(0, -1).lastIndexOf('/') + 1);
    const name = folder.slice(parent.length);
    return !rows.get(parent)?.includes(`\`${name}\``);
  });
  assert.ok(rows.size > 5, 'the README has a layout table');
  assert.deepEqual(missing, [], `not in the README's layout table: ${missing.join(', ')}`);
});
