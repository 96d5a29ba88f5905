// Bad input gives exit code 1 or 2 and a one-line message that names the problem.
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as G from '@mini/gpt/node';
import { describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { BIN, QUICK, VERDICT, runCli, signalOnceExists } from './run-cli.js';

const oneLine = (stderr: string) =>
  stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('error:'));

describe('mini-gpt errors', () => {
  it('a missing data file is a usage error (2)', async () => {
    const r = await runCli(['train', '--preset', 'tiny', '--data', '/no/such/file.txt']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual(['error: --data /no/such/file.txt: no such file']);
  });

  it('a folder without texts or shards, or a device, as --data is refused before it is read (/dev/zero never ends)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'mini-gpt-empty-'));
    const folder = await runCli(['train', '--preset', 'tiny', '--data', empty]);
    expect(folder.code).toBe(2);
    expect(oneLine(folder.stderr)).toEqual([
      `error: --data ${empty}: a folder with no text files and no token shards (train_*.bin) in it`,
    ]);
    for (const command of [
      ['train', '--preset', 'tiny'],
      ['eval', '--model', 'gpt2'],
    ]) {
      const r = await runCli([...command, '--data', '/dev/zero'], { env: { HF_ENDPOINT: 'http://127.0.0.1:9' } });
      expect(r.code).toBe(2);
      expect(oneLine(r.stderr)).toEqual([
        'error: --data /dev/zero: not a regular file (a device, pipe or socket); give a text file',
      ]);
    }
  });

  it('an unknown preset is a usage error naming the presets', async () => {
    const r = await runCli(['train', '--preset', 'gpt5', '--data', VERDICT]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /error: unknown preset "gpt5": use one of gpt2-small, gpt2-medium, gpt2-large, gpt2-xl, tiny/,
    );
  });

  it('a negative temperature is a usage error', async () => {
    const r = await runCli(['generate', '--model', 'gpt2', '--prompt', 'x', '--temperature', '-1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--temperature <x>' argument '-1' is invalid/);
  });

  it('an unknown --dtype is a usage error naming the choices', async () => {
    const r = await runCli(['generate', '--model', 'gpt2', '--prompt', 'x', '--dtype', 'half']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)[0]).toMatch(
      /--dtype <dtype>' argument 'half' is invalid\. auto, float32, float16, bfloat16, int8 or int4 expected/,
    );
  });
  it('eval checks --data before it looks for (or downloads) the model', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'hub-'));
    const r = await runCli(['eval', '--model', 'gpt2', '--data', '/no/such/file.txt'], {
      env: { MINI_GPT_CACHE: cache, HF_HUB_CACHE: cache, HF_ENDPOINT: 'http://127.0.0.1:9' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['error: --data /no/such/file.txt: no such file']);
  });

  it('a loss that becomes NaN before any save says no checkpoint was saved, and leaves no folder', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mini-gpt-nan-')), 'run');
    const r = await runCli(['train', ...QUICK, '--epochs', '1', '--lr', '1e6', '--eval-freq', '5', '--out', out]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([expect.stringMatching(/^error: .*NaN.*\. no checkpoint was saved before it$/)]);
    expect(existsSync(out)).toBe(false);
  });

  it('Ctrl-C while the model is being made stops with one line and takes the new folder back', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mini-gpt-early-')), 'run');
    // gpt2-small's random initialisation takes seconds: the signal lands after the folder is made, before the first step.
    const { code, stderr } = await signalOnceExists(['train', '--data', VERDICT, '--out', out], out, 'SIGINT');
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('Ctrl-C before the first step: stopped, nothing saved');
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  it('a second train on the folder a running one writes in is refused, and the lock goes with the run', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mini-gpt-lock-')), 'run');
    let second: Promise<Awaited<ReturnType<typeof runCli>>> | null = null;
    // Short windows with a small stride: hundreds of steps before the first epoch's save.
    const first = runCli(
      ['train', ...QUICK, '--context-length', '64', '--stride', '8', '--epochs', '200', '--out', out],
      {
        onStdout: (text, child) => {
          if (second || !text.includes('device:')) return;
          second = runCli(['train', ...QUICK, '--seed', '7', '--out', out]);
          void second.then(() => child.kill('SIGINT'));
        },
      },
    );
    const stopped = await first;
    const refused = await second!;
    expect(refused.code).toBe(2);
    expect(oneLine(refused.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(`^error: --out ${out}: another mini-gpt train \\(pid \\d+\\) is writing in this folder$`),
      ),
    ]);
    expect(stopped.code, stopped.stderr).toBe(130); // the first saved its checkpoint on Ctrl-C
    expect(existsSync(join(out, '.mini-gpt.lock'))).toBe(false);
    const resumed = await runCli(['train', '--resume', out, '--epochs', '1']);
    expect(resumed.stderr).not.toContain('another mini-gpt train');
  }, 120_000);

  it('a corrupt safetensors file is a runtime error (1) naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mini-gpt-bad-'));
    mkdirSync(join(dir, 'm'));
    writeFileSync(
      join(dir, 'm', 'config.json'),
      JSON.stringify({ vocab_size: 50257, n_positions: 16, n_embd: 32, n_layer: 2, n_head: 2 }),
    );
    writeFileSync(join(dir, 'm', 'model.safetensors'), Buffer.from('this is not a safetensors file at all'));
    const r = await runCli(['generate', '--model', join(dir, 'm'), '--prompt', 'hello']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([
      expect.stringContaining(`${join(dir, 'm', 'model.safetensors')}: header length`),
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --verbose
  });

  it("info reads the weights file's header: a cut file or one that does not fit config.json is refused, as generate refuses it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mini-gpt-info-'));
    const model = G.GPTModel.create(G.resolveConfig('tiny', { contextLength: 16 }), { seed: 3 });
    await G.saveModel(dir, model);
    model.dispose();
    const good = await runCli(['info', '--model', dir, '--device', 'cpu']);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/model\.safetensors: [\d.]+ [kM]B, weights in float32/);
    const file = join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 1000)); // a download cut short
    for (const command of [['info'], ['generate', '--prompt', 'x']]) {
      const r = await runCli([...command, '--model', dir, '--device', 'cpu']);
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toEqual([
        expect.stringMatching(
          new RegExp(`^error: ${file}: (tensor ".+": data_offsets .* run past the data|\\d+ bytes after)`),
        ),
      ]);
    }
    writeFileSync(file, bytes);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, n_layer: config.n_layer + 1 }));
    const mismatched = await runCli(['info', '--model', dir, '--device', 'cpu']);
    expect(mismatched.code).toBe(1);
    expect(oneLine(mismatched.stderr)).toEqual([
      `error: ${file}: missing tensor "h.${config.n_layer}.ln_1.weight" (the file holds ${config.n_layer} layers, the config says n_layer ${config.n_layer + 1})`,
    ]);
  });

  it('an empty --start-context is refused (it skipped the samples silently) unless --sample-tokens 0; empty paths are refused', async () => {
    const r = await runCli(['train', ...QUICK, '--start-context', '']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual([
      'error: --start-context is empty: give some text to continue (--sample-tokens 0: no samples)',
    ]);
    // An empty --out wrote the run into the current folder.
    for (const [command, flag] of [
      [['train', ...QUICK], '--out <dir>'],
      [['train', ...QUICK], '--data <file>'],
      [['generate', '--prompt', 'x'], '--model <model>'],
      [['info'], '--model <model>'],
    ] as const) {
      const empty = await runCli([...command, flag.split(' ')[0]!, '']);
      expect(empty.code, `${command[0]} ${flag}`).toBe(2);
      expect(empty.stderr).toContain(
        `error: option '${flag}' argument '' is invalid. a path expected, got an empty string`,
      );
    }
  });

  it.runIf(existsSync('/proc/self'))(
    "--out under /proc is a usage error, not a hang (Node's recursive mkdir never returns there)",
    async () => {
      const r = await runCli(['train', ...QUICK, '--out', '/proc/mini-gpt-run']);
      expect(r.code).toBe(2);
      expect(oneLine(r.stderr)).toEqual([
        'error: --out /proc/mini-gpt-run: cannot create or write this folder (ENOENT)',
      ]);
    },
    20_000,
  );

  // A small file system needs root to mount (CI runs as root); elsewhere this case is skipped.
  it.runIf(process.platform === 'linux' && process.getuid?.() === 0)(
    'checkpoints that cannot fit the --out file system are refused before training, naming the sizes and --no-optimizer-state',
    async () => {
      const mount = mkdtempSync(join(tmpdir(), 'mini-gpt-small-fs-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount]);
      try {
        const out = join(mount, 'run');
        const r = await runCli(['train', ...QUICK, '--out', out]);
        expect(r.code).toBe(2);
        expect(oneLine(r.stderr)).toEqual([
          expect.stringMatching(new RegExp(`^error: --out ${out}: [0-9.]+ MB free there, `)),
        ]);
        expect(r.stderr).toContain(
          "but the run's checkpoints need 77.8 MB (13.0 MB model + 25.9 MB optimizer state, twice: the new one beside the last one); free some space or choose another --out, or keep the model only with --no-optimizer-state (25.9 MB)\n",
        );
        expect(existsSync(out)).toBe(false); // the folder it made is removed
      } finally {
        execFileSync('umount', [mount]);
      }
    },
  );

  it('a model.safetensors that is a folder, a pipe or a broken link is one line naming it (a pipe hung every command)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mini-gpt-not-a-file-'));
    const config = JSON.stringify({ vocab_size: 50257, n_positions: 16, n_embd: 32, n_layer: 2, n_head: 2 });
    const cases = [
      ['folder', (path: string) => mkdirSync(path), 'a folder, not a file'],
      ['pipe', (path: string) => execFileSync('mkfifo', [path]), 'not a regular file (a device, pipe or socket)'],
    ] as const;
    for (const [what, make, why] of cases) {
      mkdirSync(join(dir, what));
      writeFileSync(join(dir, what, 'config.json'), config);
      const file = join(dir, what, 'model.safetensors');
      make(file);
      for (const command of [['info'], ['generate', '--prompt', 'x'], ['eval', '--data', VERDICT]]) {
        const r = await runCli([...command, '--model', join(dir, what), '--device', 'cpu']);
        expect(r.code, `${command[0]} on a ${what}`).toBe(1);
        expect(oneLine(r.stderr)).toEqual([`error: ${file}: ${why}`]);
      }
    }
    mkdirSync(join(dir, 'link'));
    writeFileSync(join(dir, 'link', 'config.json'), config);
    symlinkSync('../blobs/gone', join(dir, 'link', 'model.safetensors')); // a Hugging Face cache whose blob was removed
    const r = await runCli(['info', '--model', join(dir, 'link')]);
    expect(r.code).toBe(1); // a file fault, as the folder and the pipe above
    expect(oneLine(r.stderr)).toEqual([
      `error: ${join(dir, 'link', 'model.safetensors')}: a link to ../blobs/gone, which does not exist`,
    ]);
  }, 60_000);

  it('a path that is, or sits under, a link leading nowhere says so wherever a path is given (not "no such file" or ENOENT)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mini-gpt-links-'));
    const gone = join(dir, 'gone');
    const loop = join(dir, 'loop');
    symlinkSync('/no/such/target', gone);
    symlinkSync('loop-back', loop);
    symlinkSync('loop', join(dir, 'loop-back'));
    const text = join(dir, 'text.txt');
    writeFileSync(text, 'Every effort moves you.\n');
    const broken = 'a link to /no/such/target, which does not exist';
    const under = `${gone} is ${broken}`;
    const cases: [string[], string][] = [
      [['train', '--preset', 'tiny', '--data', gone], `--data ${gone}: ${broken}`],
      [['train', '--preset', 'tiny', '--data', join(gone, 'a.txt')], `--data ${join(gone, 'a.txt')}: ${under}`],
      [
        ['train', '--preset', 'tiny', '--data', loop],
        `--data ${loop}: a link to loop-back that leads back to itself (a loop of links)`,
      ],
      [['train', '--resume', gone], `--resume ${gone}: ${broken}`],
      [['train', '--resume', text], `--resume ${text}: a file, not a run folder`],
      [
        ['train', '--preset', 'tiny', '--data', text, '--out', join(gone, 'run')],
        `--out ${join(gone, 'run')}: cannot create or write this folder (${under})`,
      ],
      [['prepare', gone, '--out', join(dir, 'shards')], `${gone}: ${broken}`],
      [['prepare', text, '--out', gone], `--out ${gone}: cannot create or write this folder (${broken})`],
      [['generate', '--model', gone, '--prompt', 'x'], `${gone}: ${broken}`],
    ];
    for (const [args, line] of cases) {
      const r = await runCli(args, { env: { HF_HUB_OFFLINE: '1' } });
      expect(r.code, args.join(' ')).toBeGreaterThan(0);
      expect(oneLine(r.stderr), args.join(' ')).toEqual([`error: ${line}`]);
    }
  }, 60_000);

  it('a mistyped cache subcommand names the ones there are (not "too many arguments for \'ls\'")', async () => {
    const r = await runCli(['cache', 'remove', 'gpt2'], { env: { HF_HUB_CACHE: mkdtempSync(join(tmpdir(), 'hub-')) } });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toEqual(["error: unknown cache command 'remove': use ls (the default) or rm"]);
    const extra = await runCli(['cache', 'ls', 'extra'], {
      env: { HF_HUB_CACHE: mkdtempSync(join(tmpdir(), 'hub-')) },
    });
    expect(extra.code).toBe(2);
    expect(oneLine(extra.stderr)).toEqual(["error: cache ls takes no arguments, got 'extra'"]);
  });

  it('a GPT-2 name that is not downloaded, offline, names the cache folder searched and the command (npx, one space)', async () => {
    const hub = mkdtempSync(join(tmpdir(), 'hub-'));
    const r = await runCli(['generate', '--model', 'gpt2-xl', '--prompt', 'x'], {
      env: { MINI_GPT_CACHE: mkdtempSync(join(tmpdir(), 'cache-')), HF_HUB_CACHE: hub, HF_HUB_OFFLINE: '1' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: gpt2-xl is not in the Hugging Face cache (searched ${join(hub, 'models--openai-community--gpt2-xl')}) and HF_HUB_OFFLINE is set: download it with a network: npx mini-gpt download gpt2-xl\n`,
    );
  });

  it('a reader that closes the pipe early (| head) ends it quietly, without an EPIPE stack trace', async () => {
    const child = spawn(process.execPath, [BIN, 'train', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first write
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|node:events/);
    expect(code).toBe(0);
  });

  it('--help works on every command and shows defaults', async () => {
    for (const command of ['train', 'generate', 'eval', 'download', 'info']) {
      const r = await runCli([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: mini-gpt ${command}`);
    }
    expect((await runCli(['train', '--help'])).stdout).toMatch(
      /--lr <x>\s+peak learning rate \(AdamW\) \(default: 0\.0004\)/,
    );
    expect((await runCli(['bogus'])).code).toBe(2);
  });

  it('a usage error the parser finds (a missing option, an unknown flag or command) is one line, the hint on it', async () => {
    for (const [args, line] of [
      [['generate', '--prompt', 'x'], "required option '--model <model>' not specified"],
      [['eval', '--model', 'gpt2', '--data', VERDICT, '--bogus'], "unknown option '--bogus'"],
      [['cache', 'rm'], "missing required argument 'model'"],
    ] as const) {
      const r = await runCli([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toBe(`error: ${line} (add --help for usage)\n`);
    }
    // commander's suggestion joins the line instead of the hint
    for (const [args, line] of [
      [['trian'], "unknown command 'trian': did you mean train?"],
      [
        ['generate', '--model', 'gpt2', '--prompt', 'x', '--temprature', '1'],
        "unknown option '--temprature': did you mean --temperature?",
      ],
    ] as const) {
      const r = await runCli([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toBe(`error: ${line}\n`);
    }
  });

  it("each command's --help lists the environment variables it reads, and only those", async () => {
    const listed = async (command: string) => {
      const help = (await runCli([command, '--help'])).stdout;
      return [...help.slice(help.indexOf('Environment:')).matchAll(/^ {2}([A-Z_]+)/gm)].map((m) => m[1]);
    };
    const hub = ['HF_HOME', 'HF_ENDPOINT', 'HF_TOKEN', 'HF_HUB_OFFLINE', 'HF_HUB_DOWNLOAD_TIMEOUT'];
    const device = ['MINI_GPT_DEVICE', 'MINI_GPT_NATIVE', 'MINI_GPT_CPU_HEAP'];
    expect(await listed('train')).toEqual([...device, 'MINI_GPT_CACHE', 'NO_COLOR']);
    for (const command of ['generate', 'eval', 'info'])
      expect(await listed(command), command).toEqual([...device, 'MINI_GPT_CACHE', ...hub, 'NO_COLOR']);
    // convert has no --device (it runs on the CPU) and multiplies no matrices
    expect(await listed('convert')).toEqual(['MINI_GPT_CPU_HEAP', 'MINI_GPT_CACHE', ...hub, 'NO_COLOR']);
    expect(await listed('download')).toEqual(['MINI_GPT_CACHE', ...hub, 'NO_COLOR']);
    expect((await runCli(['info', '--help'])).stdout).toMatch(/\(without\s+it: the device only\)/);
  });
});

describe('mini-gpt train without --data', () => {
  it('falls back to the shipped copy of The Verdict when the download fails', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'mini-gpt-cache-'));
    const r = await runCli(
      [
        'train',
        '--preset',
        'tiny',
        '--context-length',
        '16',
        '--stride',
        '2048',
        '--epochs',
        '1',
        '--eval-iter',
        '1',
        '--sample-tokens',
        '1',
        '--out',
        join(cache, 'run'),
      ],
      { env: { MINI_GPT_CACHE: cache, MINI_GPT_DATA_URL: 'http://127.0.0.1:9/the-verdict.txt' } },
    );
    expect(r.code, r.stderr).toBe(0);
    // The cause is named, not just "fetch failed" (fetch refuses port 9 before connecting: "bad port").
    expect(r.stderr).toContain(
      'could not download it (could not reach http://127.0.0.1:9/the-verdict.txt: bad port, 3 tries); using the copy shipped with mini-gpt',
    );
    expect(r.stdout).toMatch(/data: .*packages\/cli\/data\/the-verdict\.txt/);
  });
});
