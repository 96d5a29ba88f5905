/**
 * The loss plot as the book draws it (plot_losses): training and validation loss against
 * epochs, with a second x axis on top for tokens seen. Plain SVG text, no dependencies, so it
 * renders anywhere (the CLI turns it into a PNG with resvg).
 */
import type { LossRecord } from './train.js';

const W = 640;
const H = 400;
const M = { left: 64, right: 24, top: 56, bottom: 56 };

function ticks(min: number, max: number, count: number): number[] {
  if (max <= min) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  if (Math.abs(v) >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (Math.abs(v) >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export interface LossPlotOptions {
  epochs: number;
  title?: string;
  /**
   * Optimizer steps per epoch. Given, each point sits at its step (a run in progress fills the
   * axis as it goes); omitted, the points are spread evenly over the epochs, as the book does.
   */
  stepsPerEpoch?: number;
}

/**
 * SVG of the losses. x: the epoch of each evaluation, interpolated by step within its epoch
 * (as the book's torch.linspace(0, num_epochs, len(train_losses)) spreads them) over
 * `epochs`: the epochs the history covers (a stopped run's fraction, not the planned total).
 * Only finite losses are drawn (a gap breaks the line); a series with none (an empty
 * validation split gives NaN) is named in a note instead.
 */
export function lossPlotSvg(history: readonly LossRecord[], options: LossPlotOptions): string {
  const n = history.length;
  const perEpoch = options.stepsPerEpoch;
  const xs = history.map((r, i) => (perEpoch ? (r.step + 1) / perEpoch : n > 1 ? (i / (n - 1)) * options.epochs : 0));
  const losses = history.flatMap((r) => [r.trainLoss, r.valLoss]).filter(Number.isFinite);
  const yMin = losses.length ? Math.min(...losses) : 0;
  const yMax = losses.length ? Math.max(...losses) : 1;
  const pad = (yMax - yMin) * 0.05 || 0.5;
  const [y0, y1] = [yMin - pad, yMax + pad];
  const px = (x: number) => M.left + (x / Math.max(options.epochs, 1e-9)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const path = (key: 'trainLoss' | 'valLoss') =>
    history
      .map((r, i) =>
        Number.isFinite(r[key])
          ? `${i === 0 || !Number.isFinite(history[i - 1]![key]) ? 'M' : 'L'}${px(xs[i]!).toFixed(1)},${py(r[key]).toFixed(1)}`
          : '',
      )
      .filter(Boolean)
      .join(' ');
  const missing =
    n === 0
      ? []
      : (['trainLoss', 'valLoss'] as const)
          .filter((key) => !history.some((r) => Number.isFinite(r[key])))
          .map((key) =>
            key === 'valLoss' ? 'no validation loss: the validation split is empty' : 'no finite training loss',
          );
  const last = history[n - 1];
  // With stepsPerEpoch the right edge is the end of the run: tokens per step times its steps.
  const tokensMax = !last
    ? 0
    : perEpoch
      ? (last.tokensSeen / (last.step + 1)) * perEpoch * options.epochs
      : last.tokensSeen;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#333"/>`,
  ];
  for (const t of ticks(y0, y1, 6)) {
    parts.push(
      `<line x1="${M.left - 4}" x2="${M.left}" y1="${py(t)}" y2="${py(t)}" stroke="#333"/><text x="${M.left - 8}" y="${py(t) + 4}" text-anchor="end">${label(t)}</text>`,
    );
  }
  // Whole epochs get a tick each (up to 10); a fraction of one (a stopped run) gets about 4.
  for (const t of ticks(0, options.epochs, options.epochs >= 1 ? Math.min(10, options.epochs) : 4)) {
    parts.push(
      `<line x1="${px(t)}" x2="${px(t)}" y1="${H - M.bottom}" y2="${H - M.bottom + 4}" stroke="#333"/><text x="${px(t)}" y="${H - M.bottom + 18}" text-anchor="middle">${label(t)}</text>`,
    );
  }
  // The top axis: tokens seen at the same x positions (linear in steps, as in the book).
  for (const t of tokensMax > 0 ? ticks(0, tokensMax, 5) : []) {
    const x = M.left + (t / tokensMax) * (W - M.left - M.right);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${M.top - 4}" y2="${M.top}" stroke="#333"/><text x="${x}" y="${M.top - 8}" text-anchor="middle">${label(t)}</text>`,
    );
  }
  parts.push(
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 14}" text-anchor="middle">Epochs</text>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${M.top - 28}" text-anchor="middle">Tokens seen</text>`,
    `<text transform="translate(18 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">Loss</text>`,
    `<path d="${path('trainLoss')}" fill="none" stroke="#1f77b4" stroke-width="2"/>`,
    `<path d="${path('valLoss')}" fill="none" stroke="#ff7f0e" stroke-width="2" stroke-dasharray="6 4"/>`,
    `<g transform="translate(${W - M.right - 170} ${M.top + 12})"><rect width="160" height="44" fill="white" stroke="#999"/>`,
    `<line x1="8" x2="36" y1="14" y2="14" stroke="#1f77b4" stroke-width="2"/><text x="44" y="18">Training loss</text>`,
    `<line x1="8" x2="36" y1="32" y2="32" stroke="#ff7f0e" stroke-width="2" stroke-dasharray="6 4"/><text x="44" y="36">Validation loss</text></g>`,
  );
  missing.forEach((note, i) =>
    parts.push(`<text x="${M.left + 12}" y="${M.top + 24 + 18 * i}" fill="#b00">${escapeXml(note)}</text>`),
  );
  if (options.title) parts.push(`<text x="${M.left}" y="16" font-weight="bold">${escapeXml(options.title)}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * losses.csv: one row per evaluation. A loss that was not measured (no validation split: NaN in
 * memory, null once a resumed run has read it back from JSON) is an empty field, CSV's missing
 * value (pandas and spreadsheets read it as such), never "NaN" in some rows and "null" in others.
 */
export function lossesCsv(history: readonly LossRecord[]): string {
  const loss = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : '');
  const rows = history.map((r) => `${r.step},${r.epoch},${r.tokensSeen},${loss(r.trainLoss)},${loss(r.valLoss)}`);
  return `${['step,epoch,tokens_seen,train_loss,val_loss', ...rows].join('\n')}\n`;
}
