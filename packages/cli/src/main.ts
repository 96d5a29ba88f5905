/**
 * The mini-gpt command line: parses, calls @mini/gpt, prints. Exit codes: 0 ok, 1 runtime
 * error, 2 usage error; 130 / 143 / 129 / 141 when training stops on Ctrl-C / SIGTERM / SIGHUP /
 * a closed output pipe after saving. Errors are one line; --verbose adds the stack.
 */
import { MiniGptError } from '@mini/tensor';
import { Command, type CommandUnknownOpts, CommanderError, Option } from '@commander-js/extra-typings';
import { listCache, removeCached } from './commands/cache.js';
import { convert } from './commands/convert.js';
import { download } from './commands/download.js';
import { evaluate } from './commands/evaluate.js';
import { generate } from './commands/generate.js';
import { info } from './commands/info.js';
import { prepare } from './commands/prepare.js';
import { train } from './commands/train.js';
import { configureCli } from './environment.js';
import * as parse from './options.js';
import { UsageError, errorColors, setVerbose, stopProgress } from './ui.js';

/** Attribute names of the options typed on the command line (not defaults). */
const typedFlags = (command: CommandUnknownOpts) =>
  new Set(Object.keys(command.opts()).filter((key) => command.getOptionValueSource(key) === 'cli'));

/** The variables each command's --help lists, as their help lines: each command names those it reads. */
const VARIABLES = {
  device: '  MINI_GPT_DEVICE   auto, cpu or webgpu: the device when --device is not given',
  native: `  MINI_GPT_NATIVE   0: the CPU device's matmul in WebAssembly even where the
                    native (AVX2/AVX-512) kernels were built at install`,
  heap: `  MINI_GPT_CPU_HEAP auto, wasm32 or memory64: the CPU device's WebAssembly heap
                    (auto: memory64, Node 24 only, for models past 4 GiB)`,
  cache: `  MINI_GPT_CACHE    mini-gpt's own cache (default: ~/.cache/mini-gpt on Linux):
                    the book's text in <cache>/data, models downloaded by older
                    versions in <cache>/models`,
  hub: `  HF_HOME, HF_HUB_CACHE
                    the shared Hugging Face cache where models live (default:
                    ~/.cache/huggingface/hub), shared with Python's transformers
  HF_ENDPOINT       the hub that download uses (default: https://huggingface.co)
  HF_TOKEN          a token for gated or private repositories
  HF_HUB_OFFLINE    1: use cached models only, make no request
  HF_HUB_DOWNLOAD_TIMEOUT
                    seconds to wait for the hub's answer, and for each next
                    piece of a file, before a retry (default 10; two retries)`,
  color: '  NO_COLOR          set to turn colours off',
};
const environment = (...names: (keyof typeof VARIABLES)[]) =>
  `\nEnvironment:\n${names.map((name) => VARIABLES[name]).join('\n')}`;
/** What a command that computes on a device and reads a model reads (generate, eval, info, and --help). */
const ENVIRONMENT = environment('device', 'native', 'heap', 'cache', 'hub', 'color');

const TRAIN_FILES = `
Writes into the run folder (--out, default runs/<date-time>):
  checkpoint/   config.json + model.safetensors (the model: 4 bytes a
                parameter), optimizer.safetensors (AdamW's moments: twice the
                model; not with --no-optimizer-state) and trainer_state.json;
                replaced whole at the end of every epoch and on Ctrl-C
  losses.csv    step, epoch, tokens seen, training and validation loss per
                evaluation
  loss.svg, loss.png
                the loss plot (the book's figure 5.12)
  data/         with --data a folder of texts (or a text of 32 MB or more):
                its token shards, made once and reused by --resume
Ctrl-C (or SIGTERM, SIGHUP, a closed output pipe as in \`train | head\`) finishes
the step in flight, saves, prints the --resume command and exits 130 (143, 129,
141); a second one exits at once.
On WebGPU the loss is read one step late (step n+1 is queued first, so the
GPU never waits for the host): the progress line trails by a step, and a
NaN loss stops the run a step later (nothing after the last good
checkpoint is saved); the losses printed and logged are the same.`;

const MODEL_HELP =
  'run folder, model folder or .safetensors file, a GPT-2 name (gpt2…gpt2-xl) or a hub repository id (owner/name)';
const revisionOption = () =>
  new Option('--revision <rev>', 'branch, tag or commit of a hub model (default: main)').argParser(parse.revision);
const dtypeOption = () =>
  new Option(
    '--dtype <dtype>',
    'weights in auto, float32, float16, bfloat16, int8 or int4 (int8/int4: quantized, inference only; auto: float32 when it fits comfortably, else float16, else int8)',
  )
    .default('auto')
    .argParser(parse.dtype);
const deviceOption = () =>
  new Option('--device <kind>', 'auto, cpu or webgpu (auto: a hardware GPU, else the CPU)')
    .default('auto')
    .argParser(parse.device);

/**
 * Commander's usage error (a missing required option, an unknown flag or command) as one line:
 * its "(Did you mean --temperature?)" on the second line joins the first, and without one the
 * hint to --help is added (showHelpAfterError put that on a second line too).
 */
function oneLineUsageError(text: string): string {
  const [first, ...rest] = text.trimEnd().split('\n');
  const suggestion = rest.join(' ').match(/^\(Did you mean (.+)\)$/);
  if (suggestion) return `${first}: did you mean ${suggestion[1]}`;
  return [first, ...rest, '(add --help for usage)'].join(' ');
}

/** The program and its global options (--verbose). */
function rootCommand() {
  return new Command('mini-gpt')
    .description('Train and sample GPT-2 in TypeScript on our own tensors, autograd and WGSL kernels')
    .version('0.1.0')
    .option(
      '--verbose',
      "print stack traces with errors, how --model resolved, and the WebGPU adapter probe's diagnostics",
    )
    .configureOutput({ outputError: (text, write) => write(`${oneLineUsageError(text)}\n`) })
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', ENVIRONMENT)
    .exitOverride()
    .hook('preAction', (_cli, command) => {
      setVerbose(command.optsWithGlobals().verbose === true);
      // Every MINI_GPT_* variable, checked before the command does anything (not for --help).
      configureCli();
    });
}
type Root = ReturnType<typeof rootCommand>;

const required = (text: string) => `(required) ${text}`;
/** --model as generate, eval and convert require it. */
const modelOption = () =>
  new Option('--model <model>', required(MODEL_HELP)).argParser(parse.path).makeOptionMandatory();

function trainCommand(cli: Root) {
  return cli
    .command('train')
    .description("pretrain a GPT model on a text file (defaults: the book's chapter-5 run)")
    .option('--data <file>', 'training text (default: The Verdict, downloaded once and cached)', parse.path)
    .option('--out <dir>', 'run folder (default: runs/<date-time>)', parse.path)
    .option('--resume <dir>', 'continue the run saved in this folder', parse.path)
    .option('--preset <name>', 'gpt2-small, gpt2-medium, gpt2-large, gpt2-xl or tiny', 'gpt2-small')
    .addOption(deviceOption())
    .option('--context-length <n>', 'tokens per training window', parse.positiveInt, 256)
    .option('--stride <n>', 'tokens between window starts (default: the context length)', parse.positiveInt)
    .option('--dropout <p>', 'dropout rate', parse.probability, 0.1)
    .option('--qkv-bias', 'bias on the query/key/value projection', false)
    .option('--tied-head', 'share the token embedding with the output head', false)
    .option(
      '--mlp-dim <n>',
      "the MLP's hidden width (config.json's n_inner; default 4 x the embedding width)",
      parse.positiveInt,
    )
    .option('--init <scheme>', "pytorch (the book's defaults) or gpt2 (N(0, 0.02))", 'pytorch')
    .option('--epochs <n>', 'passes over the training split', parse.positiveInt, 10)
    .option('--batch-size <n>', 'windows per batch', parse.positiveInt, 2)
    .option(
      '--max-steps <n>',
      'stop after n optimizer steps (without --epochs: as many epochs as that takes)',
      parse.positiveInt,
    )
    .option('--save-every <n>', 'also save the checkpoint every n steps (replaced whole)', parse.positiveInt)
    .option(
      '--grad-accum <n>',
      'micro-batches of --batch-size per optimizer step (gradient accumulation)',
      parse.positiveInt,
      1,
    )
    .option('--lr <x>', 'peak learning rate (AdamW)', parse.positive, 0.0004)
    .option('--weight-decay <x>', 'AdamW weight decay', parse.nonNegative, 0.1)
    .option('--eval-freq <n>', 'evaluate every n steps', parse.positiveInt, 5)
    .option('--eval-iter <n>', 'batches of each split per evaluation', parse.positiveInt, 5)
    .option('--train-ratio <x>', 'share of the text used for training', parse.fraction, 0.9)
    .option('--seed <n>', 'seed for initialisation, shuffling and dropout', parse.seed, 123)
    .option(
      '--rng <stream>',
      "random numbers: torch (PyTorch's CPU stream, the book's run digit for digit; CPU only) or fast (any device); default: torch on the CPU, fast on WebGPU",
    )
    .option('--start-context <text>', 'prompt of the sample printed after each epoch', 'Every effort moves you')
    .option('--sample-tokens <n>', 'tokens in each sample (0: no samples)', parse.nonNegativeInt, 50)
    .option('--warmup-steps <n>', 'linear learning-rate warmup (appendix D)', parse.nonNegativeInt, 0)
    .option('--initial-lr <x>', 'learning rate at the start of warmup', parse.nonNegative, 0.00001)
    .option('--cosine', 'cosine decay after warmup (appendix D)', false)
    .option('--min-lr <x>', 'floor of the cosine decay (default: lr / 10)', parse.nonNegative)
    .option('--grad-clip <x>', 'clip gradients to this global norm (appendix D)', parse.positive)
    .option(
      '--no-optimizer-state',
      "save the model only, not AdamW's moments (a third of the size; the run cannot be resumed)",
    )
    .option('--json', 'print only a JSON summary at the end')
    .option(
      '--profile',
      'print where the time went at the end: steps, evaluations, samples, checkpoints (with --json: a profile field)',
    )
    .addHelpText('after', `${TRAIN_FILES}\n${environment('device', 'native', 'heap', 'cache', 'color')}`);
}

function prepareCommand(cli: Root) {
  return cli
    .command('prepare')
    .description('tokenize text files, folders or globs into GPT-2 token shards for train --data (docs/corpus.md)')
    .argument('<inputs...>', 'text files, folders (searched recursively) or quoted globs ("books/**/*.txt")')
    .requiredOption('--out <dir>', required('a new folder for the shards and manifest.json'), parse.path)
    .option(
      '--val-share <x>',
      'share of the bytes held out for validation (the last part)',
      parse.number('a number in [0, 1)', (n) => n >= 0 && n < 1),
      0.01,
    )
    .option('--shard-tokens <n>', 'tokens per shard file', parse.positiveInt, 100_000_000)
    .option('--workers <n>', 'tokenizer threads (default and most: one per core)', parse.positiveInt)
    .option('--json', 'print the manifest as one JSON line');
}

function generateCommand(cli: Root) {
  return cli
    .command('generate')
    .description('generate text from a model, printed as it is made')
    .addOption(modelOption())
    .addOption(revisionOption())
    .requiredOption('--prompt <text>', required('text to continue'))
    .option('--max-new-tokens <n>', 'tokens to generate', parse.nonNegativeInt, 50)
    .option('--temperature <x>', '0: greedy; above 0: sample from softmax(logits / x)', parse.nonNegative, 0)
    .option('--top-k <n>', 'sample among the k most likely tokens', parse.positiveInt)
    .option(
      '--top-p <x>',
      'sample within the smallest set of tokens reaching probability p',
      parse.number('a number in (0, 1]', (n) => n > 0 && n <= 1),
    )
    .option('--seed <n>', 'sampling seed', parse.seed, 123)
    .option(
      '--rng <stream>',
      'sampling draws: torch (torch.multinomial after torch.manual_seed(seed), as the book) or fast',
      'torch',
    )
    .option('--no-cache', 'recompute the whole context for every token (no KV cache)')
    .option('--no-stop-at-eos', 'keep going past <|endoftext|>')
    .addOption(deviceOption())
    .addOption(dtypeOption())
    .addHelpText('after', ENVIRONMENT);
}

function evalCommand(cli: Root) {
  return cli
    .command('eval')
    .description('loss and perplexity of a model on a text')
    .addOption(modelOption())
    .addOption(revisionOption())
    .requiredOption('--data <file>', required('text to evaluate on'), parse.path)
    .option('--context-length <n>', "tokens per window (default: the model's context length)", parse.positiveInt)
    .option('--batch-size <n>', 'windows per batch', parse.positiveInt, 2)
    .option('--max-batches <n>', 'evaluate the first n batches only', parse.positiveInt)
    .addOption(deviceOption())
    .addOption(dtypeOption())
    .option('--json', 'print {loss, perplexity, tokens, batches}')
    .addHelpText('after', ENVIRONMENT);
}

function convertCommand(cli: Root) {
  return cli
    .command('convert')
    .description('write a model in another weight dtype: int8/int4 quantized files load with no conversion')
    .addOption(modelOption())
    .addOption(revisionOption())
    .requiredOption('--dtype <dtype>', required('int8, int4, float16, bfloat16 or float32'), parse.dtype)
    .requiredOption('--out <dir>', required('folder for config.json and model.safetensors'), parse.path)
    .addHelpText('after', environment('heap', 'cache', 'hub', 'color'));
}

function downloadCommand(cli: Root) {
  return cli
    .command('download')
    .description(
      'fetch a model into the shared Hugging Face cache (HF_HUB_CACHE, HF_HOME); HF_ENDPOINT sets the hub, HF_TOKEN the token',
    )
    .argument('<model>', 'gpt2, gpt2-medium, gpt2-large, gpt2-xl or a hub repository id (owner/name)')
    .addOption(revisionOption())
    .option('--force', 'fetch the files again even if the cache holds them (repairs a damaged file)')
    .addHelpText('after', environment('cache', 'hub', 'color'));
}

function infoCommand(cli: Root) {
  return cli
    .command('info')
    .description("a model's config, parameters and memory, and the device that would be used")
    .addOption(new Option('--model <model>', `${MODEL_HELP} (without it: the device only)`).argParser(parse.path))
    .addOption(revisionOption())
    .addOption(deviceOption())
    .addOption(dtypeOption())
    .option('--json', 'print one JSON object')
    .addHelpText('after', ENVIRONMENT);
}

/** Each command's options (with the global --verbose), as its definition above types them. */
type OptionsOf<C extends (cli: Root) => { optsWithGlobals(): unknown }> = ReturnType<ReturnType<C>['optsWithGlobals']>;
export type TrainOptions = OptionsOf<typeof trainCommand>;
export type PrepareOptions = OptionsOf<typeof prepareCommand>;
export type GenerateOptions = OptionsOf<typeof generateCommand>;
export type EvalOptions = OptionsOf<typeof evalCommand>;
export type ConvertOptions = OptionsOf<typeof convertCommand>;
export type InfoOptions = OptionsOf<typeof infoCommand>;

/** The program with every command's action. */
function program(run: (code: Promise<number>) => void) {
  const cli = rootCommand();
  trainCommand(cli).action((_flags, command) => run(train(command.optsWithGlobals(), typedFlags(command))));
  prepareCommand(cli).action((inputs, _flags, command) => run(prepare(inputs, command.optsWithGlobals())));
  generateCommand(cli).action((_flags, command) => run(generate(command.optsWithGlobals(), typedFlags(command))));
  evalCommand(cli).action((_flags, command) => run(evaluate(command.optsWithGlobals())));
  convertCommand(cli).action((_flags, command) => run(convert(command.optsWithGlobals())));
  downloadCommand(cli).action((name, flags) => run(download(name, flags)));
  infoCommand(cli).action((_flags, command) => run(info(command.optsWithGlobals())));

  const cache = cli
    .command('cache')
    .description('models in the Hugging Face cache and the older mini-gpt cache: list them (default) or remove one');
  cache
    .command('ls', { isDefault: true })
    .description('list cached models, their revisions and sizes')
    .option('--json', 'print one JSON object')
    // As the default command, ls receives whatever follows `cache`: a word there is a mistyped
    // subcommand (`cache remove gpt2`), not an argument of ls.
    .allowExcessArguments()
    .action((flags, command) =>
      run(
        command.args.length === 0
          ? listCache(flags)
          : Promise.reject(
              new UsageError(
                command.parent?.args[0] === 'ls'
                  ? `cache ls takes no arguments, got '${command.args[0]}'`
                  : `unknown cache command '${command.args[0]}': use ls (the default) or rm`,
              ),
            ),
      ),
    );
  cache
    .command('rm')
    .description('remove a model from both caches (with --revision: only that snapshot)')
    .argument('<model>', 'a GPT-2 name or a hub repository id (owner/name)')
    .addOption(revisionOption())
    .action((model: string, flags) => run(removeCached(model, flags)));
  return cli;
}

export { outputLost } from './signals.js';

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let pending: Promise<number> = Promise.resolve(0);
  const cli = program((code) => {
    pending = code;
  });
  try {
    await cli.parseAsync(argv, { from: 'user' });
    return await pending;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    stopProgress();
    const error = e as Error;
    process.stderr.write(`${errorColors.red('error')}: ${error.message}\n`);
    if (cli.opts().verbose && error.stack) process.stderr.write(`${error.stack}\n`);
    return error instanceof MiniGptError ? error.exitCode : 1;
  }
}
