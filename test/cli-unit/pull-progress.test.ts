/**
 * Pull progress as the CLI prints it: bars redrawn in place on a terminal, one plain line per
 * layer and phase otherwise. Pure: the events are fed by hand.
 */
import { PullProgressView, progressBar, shortLayer } from '../../lib/cli/commands/images/pull-progress';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

function capture(isTTY: boolean): { out: { write(s: string): void; isTTY: boolean; columns: number }; text: () => string } {
  let text = '';
  return { out: { write: (s: string) => void (text += s), isTTY, columns: 100 }, text: () => text };
}

test('not a terminal: one line each time a layer enters a phase, no control characters', () => {
  const { out, text } = capture(false);
  const view = new PullProgressView(out);
  view.onEvent({ layer: A, phase: 'download', bytes: 0, total: 2048 });
  view.onEvent({ layer: A, phase: 'download', bytes: 1024, total: 2048 });
  view.onEvent({ layer: B, phase: 'download', bytes: 0, total: 10 });
  view.onEvent({ layer: A, phase: 'unpack', bytes: 0, total: 2048 });
  view.onEvent({ layer: A, phase: 'done', bytes: 2048, total: 2048 });
  view.end();
  expect(text()).toBe(
    'aaaaaaaaaaaa: Downloading 2.0kB\nbbbbbbbbbbbb: Downloading 10B\naaaaaaaaaaaa: Extracting 2.0kB\naaaaaaaaaaaa: Pull complete\n',
  );
});

test('a terminal: every layer on its own line, redrawn in place with a bar', () => {
  const { out, text } = capture(true);
  const view = new PullProgressView(out);
  view.onEvent({ layer: A, phase: 'download', bytes: 0, total: 100 });
  view.onEvent({ layer: B, phase: 'download', bytes: 50, total: 100 });
  const beforeRedraw = text().length;
  view.onEvent({ layer: A, phase: 'download', bytes: 100, total: 100 });
  const last = text().slice(beforeRedraw);
  // Back up over the two lines drawn, then both again, A's bar full.
  expect(last.startsWith('\x1b[2A')).toBe(true);
  expect(last).toContain(`\r\x1b[2Kaaaaaaaaaaaa: Downloading [${'='.repeat(30)}]  100B/100B\n`);
  expect(last).toContain(`\r\x1b[2Kbbbbbbbbbbbb: Downloading [${'='.repeat(15)}>${' '.repeat(14)}]  50B/100B\n`);
});

test('bars and layer names', () => {
  expect(progressBar(0, 0)).toBe('0B');
  expect(progressBar(3e6, 6e6, 10)).toBe('[=====>    ]  3.0MB/6.0MB');
  expect(shortLayer(A)).toBe('aaaaaaaaaaaa');
});
