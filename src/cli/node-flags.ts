/**
 * The Node.js flags the hub is launched with: `npm start` carries them (a test checks it), the
 * benchmark starts its hubs with them, and docs/configuration.md tells how to pass them otherwise
 * (the `switchyard` bin keeps a portable `#!/usr/bin/env node` line, which cannot carry flags).
 *
 * `--max-old-space-size=1536`: V8 derives the old generation's first collection threshold from
 * this cap, which by default it sizes from the machine's memory (4 GB on a 24 GiB machine). With
 * that default the hub let ~130 MB of garbage pile up before a full collection and peaked at
 * 280–294 MB resident in the benchmark's drains; with a 1.5 GB cap collections start earlier and
 * the same drains peak at 209–227 MB, at the same throughput (docs/benchmarks-history.md, seventh
 * session). 2 GB behaved like the default. The hub's live heap stays far below the cap (36–75 MB
 * after a full collection under load; request bodies are limited to 1 MB by default). On a machine
 * with less than ~6 GB of memory V8's own cap is lower than this one: there the flag raises it.
 */
export const HUB_NODE_FLAGS: readonly string[] = ['--max-old-space-size=1536'];
