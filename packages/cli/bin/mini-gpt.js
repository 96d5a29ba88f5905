#!/usr/bin/env node
import { main, outputLost } from '../dist/main.js';

// A reader that closes the pipe early (`mini-gpt generate … | head`) is not an error: stop
// quietly, as Unix tools do, instead of Node's unhandled EPIPE stack trace; a training run
// instead stops as on SIGHUP (finishes its step, saves) and exits 141. Output that cannot be
// written (`> /dev/full`, a full disk, EIO) is one line and exit 1, not a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE' && stream === process.stdout && outputLost()) return;
    if (e.code === 'EPIPE') process.exit(0);
    if (stream === process.stdout) process.stderr.write(`error: cannot write the output: ${e.message}\n`);
    process.exit(1);
  });
}

process.exitCode = await main(process.argv.slice(2));
