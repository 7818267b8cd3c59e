/**
 * The data each analysis stage writes (as JSON, beside its charts). Plain numbers and arrays only,
 * so the chart and report code read them without tfjs. Images are row-major arrays:
 *  - `pixels`: display space, 0 = black .. 1 = white (the raw MNIST pixel / 255, i.e. before the
 *    dataset's normalization);
 *  - `input`: the model's input space (what the network was fed; normalized when its dataset is).
 */

/** One test image as the analyses refer to it. */
export interface TestImageRef {
  /** Row in the prepared test split. */
  row: number;
  /** Index in the original MNIST test file (t10k). */
  mnistIndex: number;
  label: number;
}

export interface PredictedImage extends TestImageRef {
  predicted: number;
  /** Softmax probability of the predicted class. */
  confidence: number;
  /** Softmax probability of the true class. */
  trueProbability: number;
  /** 28 x 28, display space. */
  pixels: number[];
}

export interface PredictionGridResult {
  kind: "prediction-grid";
  seed: number;
  items: PredictedImage[];
}

export interface MisclassifiedResult {
  kind: "misclassified";
  testCount: number;
  errorCount: number;
  /** The most confident mistakes, most confident first. */
  items: PredictedImage[];
}

export interface FilterLayer {
  /** Conv layer name, e.g. "conv1". */
  name: string;
  kernelHeight: number;
  kernelWidth: number;
  inChannels: number;
  outChannels: number;
  /** [out][in][kh][kw], flattened. */
  weights: number[];
  /** max |w| over the layer: the shared colour scale of its tiles. */
  maxAbs: number;
}

export interface FiltersResult {
  kind: "filters";
  layers: FilterLayer[];
}

export interface ActivationLayer {
  /** The conv layer, e.g. "conv1". */
  conv: string;
  /** The layer whose output is shown: the activation that follows the conv (after BatchNorm). */
  shownAfter: string;
  channels: number;
  height: number;
  width: number;
  /** [channel][h][w], flattened. */
  values: number[];
  min: number;
  max: number;
}

export interface ActivationMapsResult {
  kind: "activation-maps";
  image: PredictedImage;
  layers: ActivationLayer[];
}

export interface OcclusionMap {
  patchSize: number;
  /** Positions per side: floor((28 - patchSize) / stride) + 1. */
  side: number;
  /** [row][col] of the patch's top-left corner: P(true class) with the patch there. */
  probabilities: number[];
  min: number;
}

export interface OcclusionImage extends PredictedImage {
  maps: OcclusionMap[];
}

export interface OcclusionResult {
  kind: "occlusion";
  stride: number;
  /** The patch value in display space (0..1, before normalization) and what the model was fed. */
  fill: { pixel: number; input: number };
  items: OcclusionImage[];
}

export interface AdversarialClass {
  target: number;
  /** The target logit before each step (iterations entries). */
  costs: number[];
  predicted: number;
  confidence: number;
  /** 28 x 28, model-input space (the attack works there, as in 002). */
  input: number[];
  /** The same image in display space (0..1), added by the stage for the charts. */
  pixels?: number[];
}

export interface AdversarialPair {
  /** The digit whose test image the MSE term pulls toward. */
  shown: number;
  target: number;
  predicted: number;
  confidence: number;
  input: number[];
  /** The same image in display space (0..1), added by the stage for the charts. */
  pixels?: number[];
}

export interface AdversarialResult {
  kind: "adversarial";
  settings: AdversarialSettings;
  untargeted: AdversarialClass[];
  /** The test image used for each shown digit (0..9), display space. */
  shownImages: PredictedImage[];
  targeted: AdversarialPair[];
}

/**
 * As in params.json: noiseMean, noiseStd, clampMin and clampMax on the 0..255 pixel scale (the
 * numbers 002 wrote), beta weighing the MSE of 0..255 pixel values (as in 002, where beta * MSE
 * starts near 16), step as 002 used it (x += step * d cost / d x in display space).
 * `inputSpaceSettings` (adversarial.ts) converts for the core, in the model's input space.
 */
export interface AdversarialSettings {
  seed: number;
  noiseMean: number;
  noiseStd: number;
  step: number;
  iterations: number;
  clampMin: number;
  clampMax: number;
  beta: number;
}
