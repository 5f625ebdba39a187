/** The process test-network.ts starts inside the namespace: calls the export, writes its result. */
import * as fs from 'node:fs';

async function main(): Promise<void> {
  const [modulePath, exportName, argsFile, resultFile] = process.argv.slice(2);
  const mod = (await import(modulePath)) as Record<string, (args: unknown) => Promise<unknown>>;
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new Error(`${modulePath} exports no function ${exportName}`);
  const result = await fn(JSON.parse(fs.readFileSync(argsFile, 'utf8')));
  fs.writeFileSync(resultFile, JSON.stringify(result ?? null));
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
