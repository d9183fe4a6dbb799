// Run by test/storage/reader.test.ts in a process of its own: closes readers while a read is
// under way and prints a line once every close has resolved. A close that let the process exit
// before its worker had (an unresolved await) ends this process with code 13 and no line.
import { SqliteReader } from '../../src/storage/sqlite/reader.js';

const file = process.argv[2]!;
const COUNT =
  'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000) SELECT count(*) AS c FROM n';
for (let i = 0; i < 5; i++) {
  const reader = new SqliteReader(file);
  const read = reader.read(COUNT, []);
  await new Promise((resolve) => setTimeout(resolve, 5));
  await reader.close();
  const [row] = (await read) as { c: number }[];
  if (row?.c !== 300_000) throw new Error(`the read under way answered ${JSON.stringify(row)}`);
}
console.log('every close resolved after its read');
