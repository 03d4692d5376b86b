import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', express: 'src/express/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // pg and mysql2 are optional peers, loaded only for their URLs
  external: ['pg', 'mysql2', 'better-sqlite3', 'express'],
  tsconfig: 'tsconfig.build.json',
  // import.meta.url in the CommonJS build
  shims: true,
})
