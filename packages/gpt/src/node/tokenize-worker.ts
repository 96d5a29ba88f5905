/**
 * A worker thread of prepareCorpus: GPT-2 token ids of text chunks, as uint16, with an optional
 * end-of-text id (50256) before them (a document's first chunk). The text is encoded as
 * ordinary text: a literal "<|endoftext|>" in a document is not the special token.
 * gpt-tokenizer was measured fastest of js-tiktoken, tiktoken (WebAssembly) and gpt-tokenizer
 * with equal ids (docs/corpus.md).
 */
import { parentPort } from 'node:worker_threads';
import { encode } from 'gpt-tokenizer/model/gpt2';

/** A job: chunk `seq` of the corpus; `eot`: put the end-of-text id first. */
export interface TokenizeJob {
  seq: number;
  text: string;
  eot: boolean;
}

const ORDINARY = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };

parentPort?.on('message', (job: TokenizeJob) => {
  const ids = encode(job.text, ORDINARY);
  const first = job.eot ? 1 : 0;
  const out = new Uint16Array(ids.length + first);
  if (job.eot) out[0] = 50256;
  for (let i = 0; i < ids.length; i++) out[first + i] = ids[i]!;
  parentPort!.postMessage({ seq: job.seq, ids: out }, [out.buffer]);
});
