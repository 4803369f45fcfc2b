import { defineConfig } from 'vite';

// Served by lonceng-server under /admin/, embedded in its binary: every file is a file (nothing
// inlined as a data: URL or inline script, which the console's CSP would refuse).
export default defineConfig({
  base: '/admin/',
  build: { target: 'es2021', outDir: 'dist', emptyOutDir: true, sourcemap: false, assetsInlineLimit: 0, modulePreload: { polyfill: false } },
});
