/**
 * The code blocks of README.md (```ts and ```js), each with the line it starts on, for the
 * README snippet test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const README = path.join(__dirname, '..', '..', 'README.md');

export interface Snippet {
  lang: 'ts' | 'js';
  /** README.md's line of the opening fence. */
  line: number;
  code: string;
}

export function readmeSnippets(): Snippet[] {
  const text = fs.readFileSync(README, 'utf8');
  const snippets: Snippet[] = [];
  for (const m of text.matchAll(/^```(ts|js)\n([\s\S]*?)^```$/gm)) {
    const line = text.slice(0, m.index).split('\n').length;
    snippets.push({ lang: m[1] as 'ts' | 'js', line, code: m[2] });
  }
  return snippets;
}
