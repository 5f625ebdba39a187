/**
 * Seccomp: profile validation, resolution (OCI runtime-spec or Docker/Podman JSON format) and a
 * compiler to classic BPF. Programs are compiled once per (profile, context) and cached; the
 * helper loads the bytes with seccomp(2) as the last step before exec.
 */
import { compileResolved } from './compile';
import defaultProfile from './default-profile';
import { resolveProfile } from './resolve';
import type { CompileContext, CompiledSeccomp, SeccompOption } from './types';
import { validateSeccompOption } from './validate';

export type {
  CompileContext,
  CompiledSeccomp,
  DockerSeccompProfile,
  OciLinuxSeccomp,
  SeccompArg,
  SeccompOption,
} from './types';
export { validateSeccompOption } from './validate';
export { resolveProfile } from './resolve';
export { DEFAULT_PROFILE };

const DEFAULT_PROFILE = defaultProfile;

function ctxKey(ctx: CompileContext): string {
  // Every container asks with the same few capability lists: each list as given maps to its
  // normalized form once, not per container.
  const given = ctx.capabilities.join(',');
  let capabilities = capabilityKeys.get(given);
  if (capabilities === undefined) {
    capabilities = [...ctx.capabilities].map((c) => c.toUpperCase()).sort().join(',');
    if (capabilityKeys.size >= 256) capabilityKeys.clear();
    capabilityKeys.set(given, capabilities);
  }
  return `${ctx.arch}|${capabilities}|${ctx.kernel.major}.${ctx.kernel.minor}`;
}

const capabilityKeys = new Map<string, string>();

function profileKey(option: object): string {
  return JSON.stringify(option, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** By profile object identity first (no serialization on a hit), then by content. */
const byObject = new WeakMap<object, Map<string, CompiledSeccomp>>();
const byContent = new Map<string, CompiledSeccomp>();

/** null for 'unconfined'. Cached per (profile, context): a second call returns the same Buffer without recompiling. */
export function compileSeccomp(option: SeccompOption, ctx: CompileContext): CompiledSeccomp | null {
  if (option === 'unconfined') return null;
  const profile = option === 'default' ? DEFAULT_PROFILE : option;
  const ck = ctxKey(ctx);
  let perCtx = byObject.get(profile);
  const hit = perCtx?.get(ck);
  if (hit) return hit;
  const key = `${ck}\n${profileKey(profile)}`;
  let result = byContent.get(key);
  if (!result) {
    if (option !== 'default') validateSeccompOption(option);
    const compiled = compileResolved(resolveProfile(profile, ctx));
    result = Object.freeze({ program: compiled.program, notifies: compiled.notifies });
    byContent.set(key, result);
  }
  if (!perCtx) byObject.set(profile, (perCtx = new Map()));
  perCtx.set(ck, result);
  return result;
}

export function nativeSeccompArch(): CompileContext['arch'] {
  switch (process.arch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    default:
      throw new Error(`seccomp: unsupported architecture ${process.arch} (x64 and arm64 are)`);
  }
}
