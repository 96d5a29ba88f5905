// Downloads a GPT-2 into the shared Hugging Face cache (or finds it there) and continues a prompt.
// node docs/examples/gpt2.mjs [gpt2 | gpt2-medium | gpt2-large | gpt2-xl | owner/name]
import * as G from '@mini/gpt/node';
import { getDevice } from '@mini/tensor/node';

const name = process.argv[2] ?? 'gpt2';
const device = await getDevice();
const { dir } = await G.downloadModel(G.modelRepository(name) ?? name); // HF_HOME, HF_ENDPOINT, HF_TOKEN apply
const model = await G.loadModel(dir, device, { dtype: 'float16' }); // the weight matrices in 16 bits
console.log(await G.generateText(model, 'Every effort moves you', { maxNewTokens: 20 })); // greedy
