import { bigModelLines } from './big-models.mjs';
console.log(`node ${process.version} (parent)`);
await bigModelLines(
  (name, backend, value, unit, note = '') => console.log(`${name} ${backend} ${Number(value).toFixed(3)} ${unit} ${note}`),
  process.argv.slice(2),
);
