#!/usr/bin/env node
// `npm run docs:check` (CI runs it): keeps the documentation honest.
// - Every relative link and image in README.md, docs/*.md and packages/*/README.md resolves: the
//   file or folder exists, and a #fragment names a heading of the target page (GitHub's anchors).
// - Every code block placed after `<!-- example: FILE -->` is FILE, byte for byte: the page shows
//   the example the tests run (test/gpt/docs-examples.test.ts, test/web/docs-examples.test.ts).
// Links to other sites are not fetched (CI has no network). Prints one line per problem; exits 1
// when there is any.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Pages that other branches of the same turn write (issues 22, 23, 24, 28); the README and
 * docs/index.md link to them already. A missing one is reported but not counted as a problem;
 * one that exists is checked like any page, and its entry here is then an error, so that the
 * list is emptied once the branches are merged.
 */
const PENDING = ['docs/webgpu-kernels.md', 'docs/webgpu-host.md'];

const pages = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  ...readdirSync(join(ROOT, 'packages'))
    .map((p) => `packages/${p}/README.md`)
    .filter((f) => existsSync(join(ROOT, f))),
];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown) {
  const seen = new Map();
  const out = new Set();
  for (const line of withoutCode(markdown).split('\n')) {
    const heading = line.match(/^#{1,6}\s+(.*?)\s*#*\s*$/);
    if (!heading) continue;
    const text = heading[1]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text only
      .replace(/<[^>]+>/g, '');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** The text outside fenced code blocks, with inline code spans blanked (their brackets are not links). */
function withoutCode(markdown) {
  let fenced = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line.replace(/`[^`]*`/g, (m) => m.replace(/[^`]/g, ' '));
    })
    .join('\n');
}

const problems = [];
const pending = new Set();
const anchorCache = new Map();
const anchorsOf = (file) => {
  if (!anchorCache.has(file)) anchorCache.set(file, anchors(readFileSync(file, 'utf8')));
  return anchorCache.get(file);
};

for (const page of pages) {
  const file = join(ROOT, page);
  const text = readFileSync(file, 'utf8');
  const lines = withoutCode(text).split('\n');
  lines.forEach((line, i) => {
    for (const [, target] of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // another site (https:, mailto:)
      const [path, fragment] = target.split('#');
      const where = `${page}:${i + 1}`;
      const dest = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
      const name = relative(ROOT, dest);
      if (!existsSync(dest)) {
        if (PENDING.includes(name)) pending.add(name);
        else problems.push(`${where}: ${target}: no such file or folder (${name})`);
        continue;
      }
      if (fragment === undefined) continue;
      if (statSync(dest).isDirectory() || !dest.endsWith('.md'))
        problems.push(`${where}: ${target}: a #fragment on something that is not a page`);
      else if (!anchorsOf(dest).has(fragment))
        problems.push(`${where}: ${target}: ${name} has no heading whose anchor is #${fragment}`);
    }
  });
  // Example blocks: the marker, then the fenced block right after it.
  const raw = text.split('\n');
  raw.forEach((line, i) => {
    const marker = line.match(/^<!-- example: (\S+) -->$/);
    if (!marker) return;
    const where = `${page}:${i + 1}`;
    const open = raw[i + 1] ?? '';
    const fence = open.match(/^(```|~~~)/)?.[1];
    if (!fence) {
      problems.push(`${where}: <!-- example: ${marker[1]} --> must be followed by a fenced code block`);
      return;
    }
    const end = raw.findIndex((l, j) => j > i + 1 && l.startsWith(fence));
    if (end < 0) {
      problems.push(`${where}: the code block after the example marker is not closed`);
      return;
    }
    const source = resolve(dirname(file), marker[1]);
    if (!existsSync(source)) {
      problems.push(`${where}: example ${marker[1]}: no such file`);
      return;
    }
    const shown = `${raw.slice(i + 2, end).join('\n')}\n`;
    if (shown !== readFileSync(source, 'utf8'))
      problems.push(`${where}: the code block differs from ${relative(ROOT, source)} (copy the file into the page)`);
  });
}

for (const name of PENDING)
  if (existsSync(join(ROOT, name)))
    problems.push(`scripts/check-docs.mjs: ${name} exists now: remove it from PENDING so that its links are checked`);

for (const name of pending) console.log(`pending: ${name} (written by another branch; links to it not checked)`);
for (const p of problems) console.log(p);
console.log(
  `docs: ${pages.length} pages checked, ${problems.length} problem${problems.length === 1 ? '' : 's'}${pending.size ? `, ${pending.size} pending` : ''}`,
);
process.exit(problems.length ? 1 : 0);
