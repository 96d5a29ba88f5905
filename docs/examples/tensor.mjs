// The tensor core: a device, tensors on it, ops, and one read back.
import { getDevice, gelu, matmul, randn, softmax, sum, tidy } from '@mini/tensor/node';

const device = await getDevice(process.argv[2] ?? 'auto'); // or 'cpu', or 'webgpu'
console.log(device.info.description); // the adapter or the CPU kernels
const x = randn([4, 768], { device });
const w = randn([3072, 768], { device });
const y = tidy(() => softmax(gelu(matmul(x, w, { transB: true })))); // (4, 3072); frees the intermediates
console.log(y.shape, await sum(y, -1).toArray()); // each row sums to 1; reads are the only awaits
