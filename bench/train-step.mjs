// One training step of the book's setup (batch 2 x 256 random tokens, AdamW), shared by
// bench/run.mjs (train_step_124m) and bench/train-step-child.mjs (train_step_medium).
import * as G from '@mini/gpt/node';
import * as T from '@mini/tensor/node';

/** An async function running one step of `model` with `optimizer`; it waits for the loss. */
export function trainingStep(model, optimizer, device) {
  const ids = () => T.randint(0, model.config.vocabSize, [2, 256], { device });
  return async () => {
    model.zeroGrad();
    const batch = { inputs: ids(), targets: ids() };
    const loss = T.tidy(() => {
      const l = G.batchLoss(model, batch);
      l.backward();
      return l.data;
    });
    await loss.item();
    optimizer.update();
    for (const t of [loss, batch.inputs, batch.targets]) t.dispose();
  };
}
