/**
 * The logs of several containers as one stream, in the order their records arrive (as
 * `compose logs` interleaves them), each record tagged with its service and container.
 */
import type { LogRecord } from '../state/types';

export async function* mergeLogs<Tag extends object>(sources: { iterable: AsyncIterable<LogRecord>; tag: Tag }[]): AsyncGenerator<LogRecord & Tag> {
  const iterators = sources.map((s) => ({ iterator: s.iterable[Symbol.asyncIterator](), tag: s.tag }));
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<LogRecord> }>>();
  const pull = (index: number): void => {
    pending.set(index, iterators[index].iterator.next().then((result) => ({ index, result })));
  };
  iterators.forEach((_, i) => pull(i));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        continue;
      }
      pull(index);
      yield { ...result.value, ...iterators[index].tag };
    }
  } finally {
    // A consumer that stops early (break) ends every source's reading.
    await Promise.all(iterators.map((it, i) => (pending.has(i) ? it.iterator.return?.() : undefined)));
  }
}
