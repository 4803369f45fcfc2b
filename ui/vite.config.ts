import { readFile } from 'node:fs/promises';
import { FluentResource } from '@fluent/bundle';
import { defineConfig, type Plugin } from 'vitest/config';

/** `…/lonceng.ftl?parsed`: the catalog parsed here, at build time, by the same @fluent/bundle the
 * window runs, and shipped as JSON that a call reads. Parsing its 23 KB took the window's first
 * message 7–10 ms; reading the JSON takes 1–2 ms (docs/PERFORMANCE.md). */
function parsedCatalogs(): Plugin {
  const suffix = '?parsed';
  return {
    name: 'lonceng-parsed-catalogs',
    enforce: 'pre',
    async load(id) {
      if (!id.endsWith(suffix)) return null;
      const file = id.slice(0, -suffix.length);
      this.addWatchFile(file);
      const { body } = new FluentResource(await readFile(file, 'utf8'));
      // A function: a window in one language never reads the other catalog.
      return `export default () => JSON.parse(${JSON.stringify(JSON.stringify(body))});`;
    },
  };
}

export default defineConfig({
  plugins: [parsedCatalogs()],
  // The catalogs live in crates/domain/locales and are shared with the Rust side.
  server: { fs: { allow: ['..'] } },
  build: { target: 'es2021', outDir: 'dist', emptyOutDir: true, sourcemap: false },
  test: { environment: 'node', include: ['tests/**/*.test.ts'] },
});
