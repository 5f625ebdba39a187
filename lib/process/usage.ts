/** A process's own usage report, from the rusage that waitid returned when it was reaped. */
import type { Usage } from '../options/types';
import type { ProcessResources } from '../../types/native';

/** The figures of a usage report; the process adds its setupMs. */
export function processUsage(own: ProcessResources, wallMs: number, oomKilled: boolean): Omit<Usage, 'setupMs'> {
  return {
    wallMs,
    cpuUserMs: own.userMicros / 1000,
    cpuSystemMs: own.systemMicros / 1000,
    maxRssBytes: own.maxRssKib * 1024,
    oomKilled,
  };
}
