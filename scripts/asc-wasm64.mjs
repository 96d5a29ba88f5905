// Compiling the kernels for WebAssembly memory64 (wasm64: 64-bit `usize`, an i64-addressed
// memory past 4 GiB) with AssemblyScript 0.28, which has the target but does not expose it:
//  - its compiler has a Wasm64 target (Target.Wasm64 = 2: `usize` is u64, every load/store
//    address i64), but the command line hard-codes the wasm32 target (`setTarget(T,0)`), and
//  - its Module.setMemory passes `memory64 = false` to Binaryen whatever the target, so the
//    emitted i64 addresses fail validation against an i32 memory.
// `ascWasm64()` writes copies of the two bundles with those two spots changed (each patch must
// match exactly once: a new AssemblyScript version fails the build here rather than miscompile),
// the bare imports resolved to the installed files. `withNumberPointers()` then gives every export
// with i64 parameters an f64 trampoline (i64.trunc_sat_f64_u), so JavaScript passes pointers as
// numbers in both builds (exact below 2^53) and the kernels' callers and worker threads stay one code.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

function patchOnce(text, from, to, file) {
  const count = text.split(from).length - 1;
  if (count !== 1)
    throw new Error(`asc-wasm64: expected one "${from}" in ${file}, found ${count} (AssemblyScript changed?)`);
  return text.replace(from, to);
}

/** Writes the patched compiler into `work` and returns its `main` (asc's API entry). */
export async function ascWasm64(work) {
  const dist = join(dirname(require.resolve('assemblyscript/package.json')), 'dist');
  const resolveFrom = createRequire(join(dist, 'asc.js'));
  const imports = (text) =>
    text
      .replaceAll('from"binaryen"', `from"${pathToFileURL(resolveFrom.resolve('binaryen')).href}"`)
      .replaceAll('from"long"', `from"${pathToFileURL(resolveFrom.resolve('long')).href}"`);
  mkdirSync(work, { recursive: true });
  const compiler = join(work, 'assemblyscript64.js');
  let text = readFileSync(join(dist, 'assemblyscript.js'), 'utf8');
  text = patchOnce(
    text,
    'tm(this.ref,i,e,o,0,A,b,v,I,c,l,!1,p)',
    'tm(this.ref,i,e,o,0,A,b,v,I,c,l,n==2,p)',
    'assemblyscript.js',
  );
  writeFileSync(compiler, imports(text));
  let front = readFileSync(join(dist, 'asc.js'), 'utf8');
  front = patchOnce(front, 'setTarget(T,0)', 'setTarget(T,2)', 'asc.js');
  front = patchOnce(front, 'from"assemblyscript"', `from"${pathToFileURL(compiler).href}"`, 'asc.js');
  const frontFile = join(work, 'asc64.js');
  writeFileSync(frontFile, imports(front));
  return (await import(pathToFileURL(frontFile).href)).main;
}

/** The module with each export taking f64 where it took i64 (pointers), calling the original. */
export async function withNumberPointers(bytes) {
  const binaryen = (await import(pathToFileURL(require.resolve('binaryen')).href)).default;
  const module = binaryen.readBinaryWithFeatures(bytes, binaryen.Features.All);
  const exports = [];
  for (let i = 0; i < module.getNumExports(); i++) exports.push(binaryen.getExportInfo(module.getExportByIndex(i)));
  for (const { kind, name, value } of exports) {
    if (kind !== binaryen.ExternalFunction) continue;
    const info = binaryen.getFunctionInfo(module.getFunction(value));
    const params = binaryen.expandType(info.params);
    if (!params.includes(binaryen.i64)) continue;
    const outer = params.map((t) => (t === binaryen.i64 ? binaryen.f64 : t));
    const operands = params.map((t, i) =>
      t === binaryen.i64 ? module.i64.trunc_u_sat.f64(module.local.get(i, binaryen.f64)) : module.local.get(i, t),
    );
    const trampoline = `${value}$numbers`;
    module.addFunction(
      trampoline,
      binaryen.createType(outer),
      info.results,
      [],
      module.call(value, operands, info.results),
    );
    module.removeExport(name);
    module.addFunctionExport(trampoline, name);
  }
  if (!module.validate()) throw new Error('asc-wasm64: the module with f64 pointer trampolines does not validate');
  const out = module.emitBinary();
  module.dispose();
  return out;
}
