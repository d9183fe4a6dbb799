import { benchRouting } from './routing.js';

// `node --import tsx bench/routing-main.ts` (or the built dist/bench/routing-main.js): prints the table.
const figures = await benchRouting();
const base = figures[0]?.messagesPerSecond ?? 0;
console.log('mappings  messages/s  vs first');
for (const { mappings, messagesPerSecond } of figures) {
  const ratio = base > 0 ? `${((messagesPerSecond / base) * 100).toFixed(0)} %` : '-';
  console.log(
    `${String(mappings).padStart(8)}  ${String(messagesPerSecond).padStart(10)}  ${ratio.padStart(8)}`,
  );
}
