import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'lib/index.ts', cli: 'lib/cli/main.ts' },
  format: ['esm', 'cjs'],
  // stripInternal: members marked @internal (used across lib/, not the package's API) stay out of the types.
  dts: { entry: { index: 'lib/index.ts' }, compilerOptions: { stripInternal: true } },
  target: 'node20',
  platform: 'node',
  clean: true,
  // One file per entry and format, no chunks: scripts/build-dist.mjs replaces dist/ file by
  // file under running programs, which a new set of hashed chunk names would strand.
  splitting: false,
  sourcemap: true,
  shims: true,
});
