/**
 * The mini-gpt command line. For now it reports devices (`info`); train, generate, eval and
 * download arrive with the CLI issue and say so instead of pretending.
 */
import { Command, CommanderError } from 'commander';
import { getDevice } from '@mini/tensor/node';

const PENDING = ['train', 'generate', 'eval', 'download'] as const;

function program(out: (line: string) => void): Command {
  const cli = new Command('mini-gpt')
    .description('Train and sample GPT-2 in TypeScript on our own tensors, autograd and WGSL kernels')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => process.stderr.write(s) });
  cli.command('info')
    .description('show the device and adapter that would be used')
    .option('--device <kind>', 'auto, cpu or webgpu', 'auto')
    .option('--json', 'print one JSON object')
    .action(async (options: { device: string; json?: boolean }) => {
      const device = await getDevice({ kind: options.device as 'auto' });
      if (options.json) out(JSON.stringify(device.info));
      else out(`device: ${device.kind}\nadapter: ${device.info.description}${device.info.limits ? `\nmaxStorageBufferBindingSize: ${device.info.limits.maxStorageBufferBindingSize} bytes` : ''}`);
      device.backend.destroy();
    });
  for (const name of PENDING) {
    cli.command(name)
      .description(`(not built yet: see the CLI issue) ${name}`)
      .allowUnknownOption()
      .action(() => {
        throw new Error(`mini-gpt ${name} is not built yet; this checkout has the tensor core only (mini-gpt info works)`);
      });
  }
  return cli;
}

/** Runs the CLI; returns the exit code (0 ok, 1 runtime error, 2 usage error). */
export async function main(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  try {
    await program(out).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
}
