/**
 * Every container process this Node process has started and not yet reaped,
 * by pidfd. When Node exits, they are killed: a container must not outlive
 * the program that ran it (detached containers are another matter).
 */
import { native } from '../native/binding';

export const liveProcesses = new Set<number>();

let hooked = false;

export function killLiveProcessesOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const pidfd of liveProcesses) {
      try {
        native().sendSignal(pidfd, 9);
      } catch {
        // nothing more can be done while exiting
      }
    }
  });
}
