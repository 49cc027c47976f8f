// The op table: the single source of the native boundary. scripts/generate-ops.mjs
// reads it and writes
//   native/ops.generated.cc        the C++ functions (arguments read in this order,
//                                  by name) and their registration on the exports
//   src/engine/ops.generated.ts    NativeBinding, the typed interface of the addon,
//                                  and TensorOps, the Tensor methods marked `method`
//   src/engine/functions.generated.ts  the torch.* functions marked `fn`
// Adding an op is adding a line here (see docs/engine.md, "Adding an op").
//
// sig:    name(arg: Type [= TS default], ...) -> Return
// cpp:    a C++ expression over the argument names (and `env`); helpers it calls
//         live in the hand-written native/*.cc files, declared in native/ops.h
// method: also a Tensor method (the first argument must be `self: Tensor`);
//         a string names the method differently
// fn:     also a torch.* function with the same name and arguments
// doc:    the JSDoc of the method or function
//
// Argument types (C++ type / TypeScript type at the boundary):
//   Tensor, Tensor?            at::Tensor& / c10::optional<at::Tensor>; Handle / Handle | null
//   Operand, Operand?          a tensor, or a number as a wrapped-number tensor on the
//                              device of the first Tensor argument (promotes like a Python scalar)
//   TensorOrScalar, ...?       TensorOrScalarArg { isTensor, tensor, scalar }
//   TensorList, TensorList?    std::vector<at::Tensor>; Handle[]
//   int, int?, double, bool, string, Scalar, Scalar?
//   IntList, IntList?          std::vector<int64_t>; number[]
//   Dims?                      std::vector<int64_t> or none; the method takes number | number[] | null
//   ScalarType                 at::ScalarType from a dtype code; Device? at::Device or none
//   Reduction                  'none' | 'mean' | 'sum' as at::Reduction
//   Bytes                      Napi::TypedArray; Box: the raw handle box (may be disposed)
//   Object                     Napi::Object; any JS object
// Returns: Tensor, Tensor? (null for an undefined tensor), TensorList, TensorList?,
//   (a: Tensor, b: Tensor) (a pair; methods return { a, b }), void, Self (void
//   natively, the method returns this), bool, int, double, string, IntList,
//   Value<TS type> (the C++ expression builds the Napi::Value itself).

const unary = (name, cppMethod = name) => ({ sig: `${name}(self: Tensor) -> Tensor`, cpp: `self.${cppMethod}()`, method: true });
const binary = (name, cpp) => ({ sig: `${name}(self: Tensor, other: Operand) -> Tensor`, cpp, method: true });
const inplace = (name, cpp) => ({ sig: `${name}(self: Tensor, other: Operand) -> Self`, cpp, method: true });
const reduction = (name, cpp, doc) => ({ sig: `${name}(self: Tensor, dims: Dims? = null, keepdim: bool = false) -> Tensor`, cpp, method: true, doc });
const creation = (name) => ({ sig: `${name}(shape: IntList, dtype: ScalarType, device: Device?) -> Tensor`, cpp: `at::${name}(shape, tensorOptions(dtype, device))` });

export const ops = [
  // ---- creation ------------------------------------------------------------------
  creation('zeros'),
  creation('ones'),
  creation('empty'),
  creation('rand'),
  creation('randn'),
  { sig: 'full(shape: IntList, value: Scalar, dtype: ScalarType, device: Device?) -> Tensor', cpp: 'at::full(shape, value, tensorOptions(dtype, device))' },
  { sig: 'arange(start: Scalar, end: Scalar, step: Scalar, dtype: ScalarType, device: Device?) -> Tensor', cpp: 'at::arange(start, end, step, tensorOptions(dtype, device))' },
  { sig: 'randint(low: int, high: int, shape: IntList, dtype: ScalarType, device: Device?) -> Tensor', cpp: 'at::randint(low, high, shape, tensorOptions(dtype, device))' },
  { sig: 'randperm(n: int, dtype: ScalarType, device: Device?) -> Tensor', cpp: 'at::randperm(n, tensorOptions(dtype, device))' },
  { sig: 'eye(n: int, dtype: ScalarType, device: Device?) -> Tensor', cpp: 'at::eye(n, tensorOptions(dtype, device))' },
  // Copies the bytes into a new CPU tensor.
  { sig: 'fromBuffer(bytes: Bytes, shape: IntList, dtype: ScalarType) -> Tensor', cpp: 'tensorFromBytes(env, bytes, shape, dtype)' },
  // A fresh ArrayBuffer holding the contiguous CPU bytes.
  { sig: 'toBuffer(self: Tensor) -> Value<ArrayBuffer>', cpp: 'tensorToBuffer(env, self)' },
  { sig: 'item(self: Tensor) -> Value<number | boolean>', cpp: 'tensorItem(env, self)' },

  // ---- metadata and lifetime ------------------------------------------------------
  { sig: 'shape(self: Tensor) -> IntList', cpp: 'self.sizes()' },
  { sig: 'dtype(self: Tensor) -> int', cpp: 'static_cast<int64_t>(self.scalar_type())' },
  { sig: 'device(self: Tensor) -> string', cpp: 'self.device().str()' },
  { sig: 'isContiguous(self: Tensor) -> bool', cpp: 'self.is_contiguous()', method: true },
  { sig: 'isDisposed(handle: Box) -> bool', cpp: '!handle->tensor.defined()' },
  { sig: 'dispose(handle: Box) -> void', cpp: 'releaseBox(env, handle)' },
  // Frees the tensor when `owner` is garbage collected, unless disposed before (see common.h).
  { sig: 'collectWhenUnreachable(owner: Object, handle: Box) -> void', cpp: 'collectWhenUnreachable(env, owner, handle)' },
  { sig: 'clone(self: Tensor) -> Tensor', cpp: 'self.clone()', method: true },
  { sig: 'detach(self: Tensor) -> Tensor', cpp: 'self.detach()', method: true, doc: 'Same data, cut from the autograd graph.' },
  { sig: 'contiguous(self: Tensor) -> Tensor', cpp: 'self.contiguous()', method: true },
  // NHWC in memory, the same logical [N, C, H, W]: oneDNN's convolutions run faster on it on CPU (docs/engine.md).
  // to(), not contiguous(): a tensor with one channel counts as both layouts, and only explicit NHWC strides
  // make a convolution choose NHWC (suggest_memory_format).
  { sig: 'channelsLast(self: Tensor) -> Tensor', cpp: 'self.to(self.options(), false, false, at::MemoryFormat::ChannelsLast)', method: true },
  { sig: 'isChannelsLast(self: Tensor) -> bool', cpp: 'self.suggest_memory_format() == at::MemoryFormat::ChannelsLast', method: true },
  { sig: 'toDtype(self: Tensor, dtype: ScalarType) -> Tensor', cpp: 'self.to(dtype)' },
  { sig: 'toDevice(self: Tensor, device: string) -> Tensor', cpp: 'self.to(at::Device(device))' },
  // A new handle to the same tensor (shares storage and autograd identity).
  { sig: 'alias(self: Tensor) -> Tensor', cpp: 'self' },

  // ---- elementwise ----------------------------------------------------------------
  ...['neg', 'abs', 'sign', 'exp', 'log', 'log1p', 'sqrt', 'rsqrt', 'square', 'reciprocal', 'relu', 'sigmoid', 'tanh', 'sin', 'cos', 'floor', 'ceil', 'round', 'isnan', 'isinf', 'isfinite']
    .map((name) => unary(name)),
  unary('logicalNot', 'logical_not'),
  { ...unary('nonzero'), doc: 'Indices of non-zero elements, shape [count, ndim].' },
  binary('add', 'at::add(self, other)'),
  binary('sub', 'at::sub(self, other)'),
  binary('mul', 'at::mul(self, other)'),
  binary('div', 'at::div(self, other)'),
  { ...binary('pow', 'at::pow(self, other)'), sig: 'pow(self: Tensor, exponent: Operand) -> Tensor', cpp: 'at::pow(self, exponent)' },
  binary('remainder', 'at::remainder(self, other)'),
  binary('floorDivide', 'at::div(self, other, "floor")'),
  binary('maximum', 'at::maximum(self, other)'),
  binary('minimum', 'at::minimum(self, other)'),
  binary('eq', 'at::eq(self, other)'),
  binary('ne', 'at::ne(self, other)'),
  binary('lt', 'at::lt(self, other)'),
  binary('le', 'at::le(self, other)'),
  binary('gt', 'at::gt(self, other)'),
  binary('ge', 'at::ge(self, other)'),
  binary('logicalAnd', 'at::logical_and(self, other)'),
  binary('logicalOr', 'at::logical_or(self, other)'),
  binary('logicalXor', 'at::logical_xor(self, other)'),
  { sig: 'matmul(self: Tensor, other: Tensor) -> Tensor', cpp: 'at::matmul(self, other)', method: true },
  {
    sig: 'clamp(self: Tensor, min: TensorOrScalar?, max: TensorOrScalar? = null) -> Tensor', cpp: 'clampTo(self, min, max)', method: true,
    doc: 'Clamps to [min, max]; either bound may be a number, a tensor, or null for none.',
  },
  { sig: 'softmax(self: Tensor, dim: int) -> Tensor', cpp: 'at::softmax(self, dim)', method: true },
  { sig: 'logSoftmax(self: Tensor, dim: int) -> Tensor', cpp: 'at::log_softmax(self, dim)', method: true },
  { sig: 'cumsum(self: Tensor, dim: int) -> Tensor', cpp: 'at::cumsum(self, dim)', method: true },
  { sig: 'where(cond: Tensor, a: Operand, b: Operand) -> Tensor', cpp: 'at::where(cond, a, b)', fn: true, doc: 'Elementwise choice: a where cond is true, else b (numbers broadcast like Python scalars).' },

  // ---- in place (no new handle; for optimisers and bookkeeping buffers) -------------
  inplace('add_', 'self.add_(other)'),
  inplace('sub_', 'self.sub_(other)'),
  inplace('mul_', 'self.mul_(other)'),
  inplace('div_', 'self.div_(other)'),
  { ...inplace('copy_', 'self.copy_(src)'), sig: 'copy_(self: Tensor, src: Operand) -> Self' },
  { ...inplace('fill_', 'self.fill_(value)'), sig: 'fill_(self: Tensor, value: Operand) -> Self' },
  inplace('maximum_', 'at::maximum_out(self, self, other)'),
  inplace('minimum_', 'at::minimum_out(self, self, other)'),
  { sig: 'zero_(self: Tensor) -> Self', cpp: 'self.zero_()', method: true },
  // self += alpha * other (Tensor.add_ with alpha)
  { sig: 'addScaled_(self: Tensor, other: Tensor, alpha: Scalar) -> void', cpp: 'self.add_(other, alpha)' },
  { sig: 'addcmul_(self: Tensor, a: Tensor, b: Tensor, value: Scalar = 1) -> Self', cpp: 'self.addcmul_(a, b, value)', method: true, doc: 'this += value * a * b' },
  { sig: 'addcdiv_(self: Tensor, a: Tensor, b: Tensor, value: Scalar = 1) -> Self', cpp: 'self.addcdiv_(a, b, value)', method: true, doc: 'this += value * a / b' },
  { sig: 'lerp_(self: Tensor, end: Tensor, weight: Scalar) -> Self', cpp: 'self.lerp_(end, weight)', method: true, doc: 'this += weight * (end - this)' },
  { sig: 'clamp_(self: Tensor, min: Operand?, max: Operand? = null) -> Self', cpp: 'self.clamp_(min, max)', method: true },
  {
    sig: 'indexCopy_(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Self', cpp: 'self.index_copy_(dim, index, source)', method: true,
    doc: 'this[index along dim] = source, in place.',
  },

  // ---- reductions -------------------------------------------------------------------
  reduction('sum', 'at::sum(self, dimsOrAll(self, dims), keepdim)'),
  reduction('mean', 'at::mean(self, dimsOrAll(self, dims), keepdim)'),
  reduction('amax', 'at::amax(self, dimsOrAll(self, dims), keepdim)'),
  reduction('amin', 'at::amin(self, dimsOrAll(self, dims), keepdim)'),
  reduction('logsumexp', 'at::logsumexp(self, dimsOrAll(self, dims), keepdim)'),
  reduction('var', 'at::var(self, dimsOrAll(self, dims), true, keepdim)', 'Unbiased variance (as torch.var).'),
  reduction('std', 'at::std(self, dimsOrAll(self, dims), true, keepdim)', 'Unbiased standard deviation (as torch.std).'),
  { sig: 'all(self: Tensor, dim: int? = null, keepdim: bool = false) -> Tensor', cpp: 'dim ? self.all(*dim, keepdim) : self.all()', method: true },
  { sig: 'any(self: Tensor, dim: int? = null, keepdim: bool = false) -> Tensor', cpp: 'dim ? self.any(*dim, keepdim) : self.any()', method: true },
  { sig: 'argmax(self: Tensor, dim: int? = null, keepdim: bool = false) -> Tensor', cpp: 'at::argmax(self, dim, keepdim)', method: true },
  { sig: 'argmin(self: Tensor, dim: int? = null, keepdim: bool = false) -> Tensor', cpp: 'at::argmin(self, dim, keepdim)', method: true },
  { sig: 'maxDim(self: Tensor, dim: int, keepdim: bool) -> (values: Tensor, indices: Tensor)', cpp: 'at::max(self, dim, keepdim)' },
  { sig: 'minDim(self: Tensor, dim: int, keepdim: bool) -> (values: Tensor, indices: Tensor)', cpp: 'at::min(self, dim, keepdim)' },
  {
    sig: 'norm(self: Tensor, p: double = 2, dims: Dims? = null, keepdim: bool = false) -> Tensor', method: true,
    cpp: 'at::linalg_vector_norm(self, p, optionalDims(dims), keepdim, c10::nullopt)',
    doc: 'Vector p-norm (p = 1, 2, Infinity, ...) over dims (all when omitted).',
  },
  { sig: 'allclose(a: Tensor, b: Tensor, rtol: double = 1e-5, atol: double = 1e-8) -> bool', cpp: 'at::allclose(a, b, rtol, atol)', fn: true },

  // ---- sorting and indexing -----------------------------------------------------------
  { sig: 'sort(self: Tensor, dim: int = -1, descending: bool = false) -> (values: Tensor, indices: Tensor)', cpp: 'at::sort(self, dim, descending)', method: true },
  {
    sig: 'topk(self: Tensor, k: int, dim: int = -1, largest: bool = true, sorted: bool = true) -> (values: Tensor, indices: Tensor)',
    cpp: 'at::topk(self, k, dim, largest, sorted)', method: true,
  },
  { sig: 'gather(self: Tensor, dim: int, index: Tensor) -> Tensor', cpp: 'at::gather(self, dim, index)', method: true },
  {
    sig: 'scatter(self: Tensor, dim: int, index: Tensor, src: TensorOrScalar) -> Tensor', method: true,
    cpp: 'src.isTensor ? at::scatter(self, dim, index, src.tensor) : at::scatter(self, dim, index, src.scalar)',
  },
  { sig: 'scatterAdd(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor', cpp: 'at::scatter_add(self, dim, index, src)', method: true },
  { sig: 'indexSelect(self: Tensor, dim: int, index: Tensor) -> Tensor', cpp: 'at::index_select(self, dim, index)', method: true },
  {
    sig: 'indexCopy(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor', cpp: 'at::index_copy(self, dim, index, source)', method: true,
    doc: 'Out-of-place index_copy: a copy of this with rows `index` along dim replaced by source.',
  },
  {
    sig: 'maskedSelect(self: Tensor, mask: Tensor) -> Tensor', cpp: 'at::masked_select(self, mask)', method: true,
    doc: 'The elements where mask is true, as a 1-d tensor (boolean-mask select).',
  },
  {
    sig: 'maskedFill(self: Tensor, mask: Tensor, value: TensorOrScalar) -> Tensor', method: true,
    cpp: 'value.isTensor ? at::masked_fill(self, mask, value.tensor) : at::masked_fill(self, mask, value.scalar)',
  },
  { sig: 'cat(tensors: TensorList, dim: int = 0) -> Tensor', cpp: 'at::cat(tensors, dim)', fn: true },
  { sig: 'stack(tensors: TensorList, dim: int = 0) -> Tensor', cpp: 'at::stack(tensors, dim)', fn: true },
  {
    sig: 'oneHot(t: Tensor, numClasses: int = -1) -> Tensor', cpp: 'at::one_hot(t, numClasses)', fn: true,
    doc: 'One-hot int64 encoding of class indices (numClasses -1 infers it, as PyTorch).',
  },

  // ---- shape ----------------------------------------------------------------------------
  { sig: 'reshape(self: Tensor, shape: IntList) -> Tensor', cpp: 'self.reshape(shape)', method: true },
  { sig: 'view(self: Tensor, shape: IntList) -> Tensor', cpp: 'self.view(shape)', method: true },
  { sig: 'flatten(self: Tensor, startDim: int = 0, endDim: int = -1) -> Tensor', cpp: 'self.flatten(startDim, endDim)', method: true },
  { sig: 'permute(self: Tensor, dims: IntList) -> Tensor', cpp: 'self.permute(dims)', method: true },
  { sig: 'transpose(self: Tensor, dim0: int, dim1: int) -> Tensor', cpp: 'self.transpose(dim0, dim1)', method: true },
  { sig: 'unsqueeze(self: Tensor, dim: int) -> Tensor', cpp: 'self.unsqueeze(dim)', method: true },
  { sig: 'squeeze(self: Tensor, dim: int? = null) -> Tensor', cpp: 'dim ? self.squeeze(*dim) : self.squeeze()', method: true },
  { sig: 'expand(self: Tensor, shape: IntList) -> Tensor', cpp: 'self.expand(shape)', method: true },
  { sig: 'repeat(self: Tensor, repeats: IntList) -> Tensor', cpp: 'self.repeat(repeats)', method: true },
  { sig: 'narrow(self: Tensor, dim: int, start: int, length: int) -> Tensor', cpp: 'self.narrow(dim, start, length)', method: true },
  {
    sig: 'slice(self: Tensor, dim: int, start: int = 0, end: int = Number.MAX_SAFE_INTEGER, step: int = 1) -> Tensor', cpp: 'self.slice(dim, start, end, step)', method: true,
    doc: "Python's t[..., start:end:step] along dim; negative start/end count from the end.",
  },
  { sig: 'select(self: Tensor, dim: int, index: int) -> Tensor', cpp: 'self.select(dim, index)', method: true, doc: "Python's t[..., index] along dim (the dim is removed)." },
  { sig: 'flip(self: Tensor, dims: IntList) -> Tensor', cpp: 'self.flip(dims)', method: true },
  { sig: 'split(self: Tensor, size: int, dim: int) -> TensorList', cpp: 'self.split(size, dim)' },
  { sig: 'splitWithSizes(self: Tensor, sizes: IntList, dim: int) -> TensorList', cpp: 'self.split_with_sizes(sizes, dim)' },
  { sig: 'chunk(self: Tensor, chunks: int, dim: int = 0) -> TensorList', cpp: 'self.chunk(chunks, dim)', method: true },
  // pads are PyTorch's (before, after) pairs from the last dim; mode constant, reflect or replicate.
  { sig: 'pad(self: Tensor, pads: IntList, mode: string, value: double) -> Tensor', cpp: 'padTensor(self, pads, mode, value)' },

  // ---- neural-network functionals ---------------------------------------------------------
  {
    sig: 'conv2d(x: Tensor, weight: Tensor, bias: Tensor?, stride: IntList, padding: IntList, dilation: IntList, groups: int) -> Tensor',
    cpp: 'at::conv2d(x, weight, bias, stride, padding, dilation, groups)',
  },
  { sig: 'linear(x: Tensor, weight: Tensor, bias: Tensor? = null) -> Tensor', cpp: 'at::linear(x, weight, bias)', fn: true },
  // Updates the running statistics in place when training, as PyTorch does.
  {
    sig: 'batchNorm(x: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?, training: bool, momentum: double, eps: double) -> Tensor',
    cpp: 'at::batch_norm(x, weight, bias, runningMean, runningVar, training, momentum, eps, true)',
  },
  {
    sig: 'maxPool2d(x: Tensor, kernel: IntList, stride: IntList, padding: IntList, dilation: IntList, ceilMode: bool) -> Tensor',
    cpp: 'at::max_pool2d(x, kernel, stride, padding, dilation, ceilMode)',
  },
  {
    sig: 'avgPool2d(x: Tensor, kernel: IntList, stride: IntList, padding: IntList, ceilMode: bool, countIncludePad: bool) -> Tensor',
    cpp: 'at::avg_pool2d(x, kernel, stride, padding, ceilMode, countIncludePad)',
  },
  { sig: 'adaptiveAvgPool2d(x: Tensor, outputSize: IntList) -> Tensor', cpp: 'at::adaptive_avg_pool2d(x, outputSize)' },
  { sig: 'dropout(x: Tensor, p: double, training: bool) -> Tensor', cpp: 'at::dropout(x, p, training)' },
  // target holds class indices; -100 is PyTorch's ignore_index.
  {
    sig: 'crossEntropy(logits: Tensor, target: Tensor, reduction: Reduction, labelSmoothing: double) -> Tensor',
    cpp: 'at::cross_entropy_loss(logits, target, {}, reduction, -100, labelSmoothing)',
  },
  { sig: 'nllLoss(logProbs: Tensor, target: Tensor, reduction: Reduction) -> Tensor', cpp: 'at::nll_loss_nd(logProbs, target, {}, reduction, -100)' },
  { sig: 'mseLoss(input: Tensor, target: Tensor, reduction: Reduction) -> Tensor', cpp: 'at::mse_loss(input, target, reduction)' },
  // input holds log-probabilities; 'batchmean' is done in TypeScript.
  { sig: 'klDiv(input: Tensor, target: Tensor, reduction: Reduction, logTarget: bool) -> Tensor', cpp: 'at::kl_div(input, target, reduction, logTarget)' },

  // ---- autograd --------------------------------------------------------------------------------
  { sig: 'requiresGrad(self: Tensor) -> bool', cpp: 'self.requires_grad()' },
  { sig: 'setRequiresGrad(self: Tensor, value: bool) -> void', cpp: 'self.requires_grad_(value)' },
  { sig: 'isLeaf(self: Tensor) -> bool', cpp: 'self.is_leaf()' },
  { sig: 'retainGrad(self: Tensor) -> void', cpp: 'self.retain_grad()', method: true },
  // A new handle to self.grad, or null.
  { sig: 'grad(self: Tensor) -> Tensor?', cpp: 'self.grad()' },
  { sig: 'setGrad(self: Tensor, grad: Tensor?) -> void', cpp: 'self.mutable_grad() = grad.value_or(at::Tensor())' },
  // Swaps the data under a leaf (Module.to(device), loading weights).
  { sig: 'setData(self: Tensor, other: Tensor) -> void', cpp: 'self.set_data(other)' },
  { sig: 'backward(self: Tensor, gradient: Tensor?, retainGraph: bool, createGraph: bool) -> void', cpp: 'self.backward(gradient.value_or(at::Tensor()), retainGraph, createGraph)' },
  {
    sig: 'autogradGrad(outputs: TensorList, inputs: TensorList, gradOutputs: TensorList?, retainGraph: bool, createGraph: bool, allowUnused: bool) -> TensorList?',
    cpp: 'torch::autograd::grad(outputs, inputs, gradOutputs.value_or(std::vector<at::Tensor>()), retainGraph || createGraph, createGraph, allowUnused)',
  },
  { sig: 'isGradEnabled() -> bool', cpp: 'at::GradMode::is_enabled()', fn: true },
  { sig: 'setGradEnabled(enabled: bool) -> void', cpp: 'at::GradMode::set_enabled(enabled)', fn: true },

  // ---- fused optimiser steps (one call per parameter group) ------------------------------------
  {
    sig: 'sgdStep_(params: TensorList, grads: TensorList, buffers: TensorList, lr: double, momentum: double, dampening: double, weightDecay: double, nesterov: bool, firstStep: bool) -> void',
    cpp: 'sgdStep(params, grads, buffers, SgdHyper{lr, momentum, dampening, weightDecay, nesterov}, firstStep)',
  },
  {
    sig: 'adamStep_(params: TensorList, grads: TensorList, expAvgs: TensorList, expAvgSqs: TensorList, maxExpAvgSqs: TensorList, steps: IntList, lr: double, beta1: double, beta2: double, eps: double, weightDecay: double, decoupled: bool, amsgrad: bool) -> void',
    cpp: 'adamStep(params, grads, expAvgs, expAvgSqs, maxExpAvgSqs, steps, AdamHyper{lr, beta1, beta2, eps, weightDecay, decoupled, amsgrad})',
  },

  // ---- random state, threads, devices, memory ---------------------------------------------------
  // Seeds the CPU generator and every CUDA generator that exists.
  { sig: 'manualSeed(seed: int) -> void', cpp: 'at::manual_seed(static_cast<uint64_t>(seed))' },
  { sig: 'getRngState() -> Tensor', cpp: 'cpuRngState()', fn: true, doc: 'The CPU generator state (uint8 tensor), to save in checkpoints.' },
  { sig: 'setRngState(state: Tensor) -> void', cpp: 'setCpuRngState(state)', fn: true },
  { sig: 'setNumThreads(n: int) -> void', cpp: 'setThreadCount(n)', fn: true },
  { sig: 'getNumThreads() -> int', cpp: 'at::get_num_threads()', fn: true },
  { sig: 'cudaIsAvailable() -> bool', cpp: 'cudaAvailable()', fn: true },
  { sig: 'cudaDeviceCount() -> int', cpp: 'cudaCount()', fn: true },
  { sig: 'memory() -> Value<{ numTensors: number; numBytes: number }>', cpp: 'memoryValue(env)' },
  { sig: 'version() -> string', cpp: 'TORCH_VERSION' },

  // ---- c10d collectives (native/distributed.cc; the API is src/engine/distributed/) ------------
  // Resolves once every rank has joined; the rendezvous runs off the JS thread.
  {
    sig: 'distInit(backend: string, rank: int, worldSize: int, masterAddr: string, masterPort: int, timeoutMs: int, glooInterface: string) -> Value<Promise<void>>',
    cpp: 'distInit(env, backend, rank, worldSize, masterAddr, masterPort, timeoutMs, glooInterface)',
  },
  { sig: 'distAllReduce_(self: Tensor, op: string) -> void', cpp: 'distAllReduce(env, self, op)' },
  { sig: 'distBroadcast_(self: Tensor, src: int) -> void', cpp: 'distBroadcast(env, self, src)' },
  { sig: 'distBroadcastFlat_(tensors: TensorList, src: int) -> void', cpp: 'distBroadcastFlat(env, tensors, src)' },
  { sig: 'distAllGather(self: Tensor) -> TensorList', cpp: 'distAllGather(env, self)' },
  { sig: 'distBarrier() -> void', cpp: 'distBarrier(env)' },
  { sig: 'distAverageGradients_(params: TensorList) -> void', cpp: 'distAverageGradients(env, params)' },
  // A new tensor: the sum over ranks; its backward sums the incoming gradient over ranks (synchronised batch norm).
  { sig: 'distAllReduceSum(self: Tensor) -> Tensor', cpp: 'distAllReduceSum(env, self)' },
  { sig: 'distDestroy() -> void', cpp: 'distDestroy()' },
  { sig: 'distState() -> Value<{ rank: number; worldSize: number; backend: string } | null>', cpp: 'distState(env)' },
  { sig: 'distBackends() -> Value<string[]>', cpp: 'distBackends(env)' },
  // ---- TorchScript modules and torch.save archives (native/torchscript.cc; src/nn/scriptModule.ts, src/io/torchSave.ts) ----
  // A module from the bytes of its archive, as src/models/torchScript.ts read and checked them.
  { sig: 'scriptLoad(bytes: Bytes, device: Device?) -> Value<ScriptHandle>', cpp: 'scriptLoad(env, bytes, device)' },
  { sig: 'scriptForward(module: Script, input: Tensor) -> Tensor', cpp: 'scriptForward(module, input)' },
  { sig: 'scriptTrain(module: Script, mode: bool) -> void', cpp: 'scriptTrain(module, mode)' },
  { sig: 'scriptTo(module: Script, device: string) -> void', cpp: 'scriptTo(module, device)' },
  // The bytes of the module as torch.jit.save writes it (its code and its current tensors).
  { sig: 'scriptSave(module: Script) -> Value<ArrayBuffer>', cpp: 'scriptSave(env, module)' },
  // The module's own members (not recursive), each [name, handle]; tensors are the script's own.
  {
    sig: 'scriptMembers(module: Script) -> Value<{ parameters: [string, Handle][]; buffers: [string, Handle][]; children: [string, ScriptHandle][] }>',
    cpp: 'scriptMembers(env, module)',
  },
  // Tensors built by libtorch's unpickler from `pickle` (a plain dict, see src/io/pickle.ts encodeTensorDict) and the archive's records.
  {
    sig: "pickleLoad(archive: Bytes, pickle: Bytes, depth: int) -> Value<{ kind: 'dict'; entries: [string, Handle][] }>",
    cpp: 'pickleLoad(env, archive, pickle, depth)',
  },
  { sig: 'pickleSave(names: StringList, tensors: TensorList) -> Value<ArrayBuffer>', cpp: 'pickleSave(env, names, tensors)' },
];
