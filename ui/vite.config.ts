import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The catalogs live in crates/domain/locales and are shared with the Rust side.
  server: { fs: { allow: ['..'] } },
  build: { target: 'es2021', outDir: 'dist', emptyOutDir: true, sourcemap: false },
  test: { environment: 'node', include: ['tests/**/*.test.ts'] },
});
