import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

/**
 * The layers of docs/design.md#layers: imports point one way, cli → hub → http → pipeline →
 * storage, with src/library below the pipeline and the modules at the root of src/ (errors,
 * metrics, ids, config …) usable from everywhere but importing no layer. This test reads every
 * import of src/ and fails on one that points up.
 */
const SRC = resolve(import.meta.dirname, '../../src');
/** Layers from the top; a module may import its own layer and the ones after it. */
const ORDER = ['cli', 'hub', 'http', 'pipeline', 'storage', 'library', 'root'] as const;
type Layer = (typeof ORDER)[number];

function layerOf(file: string): Layer {
  const [first, second] = relative(SRC, file).split('/');
  if (second === undefined) return first === 'hub.ts' ? 'hub' : 'root';
  return first as Layer;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

test('no module of src/ imports from a layer above its own', () => {
  const upward: string[] = [];
  for (const file of files(SRC)) {
    const from = layerOf(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(
      /^(?:import|export)[^'";]*?from '(\.[^']+)'/gm,
    )) {
      const to = layerOf(resolve(dirname(file), spec!));
      if (ORDER.indexOf(to) < ORDER.indexOf(from))
        upward.push(`${relative(SRC, file)} (${from}) imports ${spec} (${to})`);
    }
  }
  assert.deepEqual(upward, []);
});
