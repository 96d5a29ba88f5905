/**
 * The settings of a chapter-5 training run that the CLI's flags and the web app's Train view
 * share (the book's defaults: context 256, dropout 0.1, 10 epochs, batch 2, AdamW lr 0.0004 and
 * weight decay 0.1, evaluation every 5 steps on 5 batches, 90/10 split, seed 123, a 50-token
 * sample from "Every effort moves you" after each epoch).
 */
export interface TrainRecipe {
  /** Tokens per training window (the model's context length). */
  contextLength: number;
  /** Tokens between window starts (default: the context length, windows that do not overlap). */
  stride?: number;
  /** Dropout rate in train mode. */
  dropout: number;
  qkvBias: boolean;
  tiedHead: boolean;
  epochs: number;
  /** Windows per batch. */
  batchSize: number;
  /** Peak learning rate. */
  lr: number;
  weightDecay: number;
  /** Evaluate every this many steps, on evalIter batches of each split. */
  evalFreq: number;
  evalIter: number;
  /** Fraction of the text's characters used for training (the rest validates). */
  trainRatio: number;
  seed: number;
  /** Text each epoch's sample continues (empty: no sample). */
  startContext: string;
  /** New tokens in each epoch's sample. */
  sampleTokens: number;
}
