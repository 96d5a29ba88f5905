/**
 * Vite builds the page (index.html, src/main.ts) and the worker that runs the library
 * (src/worker.ts). Both servers send the cross-origin isolation headers: with them the page
 * gets SharedArrayBuffer, so the CPU kernels can run on several Web Workers; without them the
 * CPU backend runs on one thread (the Device view says so).
 */
import { defineConfig } from 'vite';

export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
