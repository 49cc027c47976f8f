// The TRADES MNIST network (four 3x3 convs, two max pools, three linear
// layers), with its state-dict names and its initialisation.
import { type Tensor } from '../engine/tensor.js';
import { Sequential } from '../nn/sequential.js';
import { Conv2d } from '../nn/conv2d.js';
import { Linear } from '../nn/linear.js';
import { ReLU } from '../nn/relu.js';
import { MaxPool2d } from '../nn/pooling.js';
import { Dropout } from '../nn/dropout.js';
import { kaimingNormal_, zeros_ } from '../nn/init.js';
import { ImageClassifier, type ClassifierOptions } from './imageClassifier.js';

export interface SmallCnnOptions extends ClassifierOptions {
  /** Side of the square input images (28 for MNIST). */
  imageSize?: number;
  dropout?: number;
}

/** Side of the feature map: two valid 3x3 convs then a 2x2 pool, twice. */
function featureSide(imageSize: number): number {
  const afterBlock = (side: number): number => Math.floor((side - 4) / 2);
  const side = afterBlock(afterBlock(imageSize));
  if (side < 1) throw new Error(`smallCnn: images of side ${imageSize} are too small (need at least 14)`);
  return side;
}

export class SmallCnn extends ImageClassifier {
  readonly featureExtractor: Sequential;
  readonly classifier: Sequential;

  constructor({ numClasses = 10, inChannels = 1, imageSize = 28, dropout = 0.5, normalize }: SmallCnnOptions = {}) {
    super(inChannels, normalize);
    const side = featureSide(imageSize);
    this.featureExtractor = this.registerModule(
      'feature_extractor',
      new Sequential({
        conv1: new Conv2d(inChannels, 32, 3),
        relu1: new ReLU(),
        conv2: new Conv2d(32, 32, 3),
        relu2: new ReLU(),
        maxpool1: new MaxPool2d(2),
        conv3: new Conv2d(32, 64, 3),
        relu3: new ReLU(),
        conv4: new Conv2d(64, 64, 3),
        relu4: new ReLU(),
        maxpool2: new MaxPool2d(2),
      }),
    );
    const fc3 = new Linear(200, numClasses);
    this.classifier = this.registerModule(
      'classifier',
      new Sequential({
        fc1: new Linear(64 * side * side, 200),
        relu1: new ReLU(),
        drop: new Dropout(dropout),
        fc2: new Linear(200, 200),
        relu2: new ReLU(),
        fc3,
      }),
    );
    // TRADES: convs kaiming_normal_ with zero bias; the last layer starts at zero.
    this.apply((m) => {
      if (m instanceof Conv2d) {
        kaimingNormal_(m.weight);
        if (m.bias !== null) zeros_(m.bias);
      }
    });
    zeros_(fc3.weight);
    zeros_(fc3.bias!);
  }

  protected logits(x: Tensor): Tensor {
    return this.classifier.forward(this.featureExtractor.forward(x).flatten(1));
  }
}

export const smallCnn = (options: SmallCnnOptions = {}): SmallCnn => new SmallCnn(options);
