// Reverse-mode autograd: a cross-entropy loss of a linear layer, and its gradient.
import * as A from '@mini/autograd';
import { randn, tensor } from '@mini/tensor/node';

const w = A.parameter(randn([5, 4])); // a leaf that needs a gradient
const x = A.constant(randn([3, 4]));
const targets = tensor([0, 4, 2], { dtype: 'int32' });
const loss = A.crossEntropy(A.matmul(x, w, { transB: true }), targets); // logits (3, 5)
loss.backward();
console.log('loss', (await loss.data.toArray())[0], 'w.grad', w.grad.shape);
