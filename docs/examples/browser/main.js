// @mini/gpt in a page: loads the model served in model/ (config.json + model.safetensors, as
// `mini-gpt train` or `mini-gpt download` write them) one tensor at a time and continues a prompt.
import * as G from '@mini/gpt';
import { getDevice } from '@mini/tensor/web';

const show = (id, text) => {
  document.getElementById(id).textContent = text;
};
try {
  const device = await getDevice(); // WebGPU on a hardware adapter (navigator.gpu), else the CPU
  show('device', device.info.description);
  const folder = new URL('model/', location.href);
  const config = G.fromHFConfig(await (await fetch(new URL('config.json', folder))).json());
  const source = await G.fetchSource(new URL('model.safetensors', folder).href); // HTTP Range requests
  const model = await G.loadHFModel(source, config, device);
  show('out', await G.generateText(model, 'Every effort moves you', { maxNewTokens: 20 }));
} catch (e) {
  show('out', `error: ${e.message}`);
}
