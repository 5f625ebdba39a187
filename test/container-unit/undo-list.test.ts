/** The create transaction's undo list: what a failed create unmakes, and in which order. */
import { UndoList } from '../../lib/container/undo-list';
import { registerCreateHook, runCreateHooks, type CreateStep } from '../../lib/container/create-hooks';

describe('UndoList', () => {
  it('unmakes the last made first, and every step even when one fails', async () => {
    const undone: string[] = [];
    const undo = new UndoList();
    undo.push(() => void undone.push('directory'));
    undo.push(async () => {
      undone.push('cgroup');
      throw new Error('EBUSY');
    });
    undo.push(() => void undone.push('process'));
    await undo.rollback();
    expect(undone).toEqual(['process', 'cgroup', 'directory']);
  });

  it('runs undos that do not wait before rollback() returns', () => {
    const undone: string[] = [];
    const undo = new UndoList();
    undo.push(() => void undone.push('directory'));
    void undo.rollback();
    expect(undone).toEqual(['directory']);
  });

  it('keeps nothing to undo once committed', async () => {
    const undone: string[] = [];
    const undo = new UndoList();
    undo.push(() => void undone.push('directory'));
    undo.commit();
    await undo.rollback();
    expect(undone).toEqual([]);
  });
});

describe('create hooks', () => {
  it('returns no promise at a point with no hook', () => {
    expect(runCreateHooks('afterNamespaces', {} as CreateStep)).toBeUndefined();
  });

  it("runs a point's hooks in order, and their undos go on the transaction's list", async () => {
    const seen: string[] = [];
    registerCreateHook('beforeStart', () => void seen.push('first'));
    registerCreateHook('beforeStart', async (step) => {
      seen.push('second');
      step.undo.push(() => void seen.push('undone'));
    });
    const undo = new UndoList();
    await runCreateHooks('beforeStart', { undo } as unknown as CreateStep);
    await undo.rollback();
    expect(seen).toEqual(['first', 'second', 'undone']);
  });
});
