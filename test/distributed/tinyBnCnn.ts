// The batch-norm model of the synchronised batch norm tests: a convolution,
// batch norm, ReLU and a linear layer on 1x6x6 images (shared by the test and its workers).
import { nn, type Tensor } from '../../src/index.js';

export class TinyBnCnn extends nn.Module {
  // No bias before batch norm (it would subtract it again), as in ResNets.
  conv = new nn.Conv2d(1, 4, 3, { bias: false });
  bn = new nn.BatchNorm2d(4);
  fc = new nn.Linear(4 * 4 * 4, 3);
  forward(x: Tensor): Tensor {
    return this.fc.forward(this.bn.forward(this.conv.forward(x)).relu().flatten(1));
  }
}
