/**
 * The uniform mean of several checkpoints of one model, tensor by tensor (weight averaging, as in
 * stochastic weight averaging). Late in a pretraining run the checkpoints a few hundred steps
 * apart still disagree on choices the run has not settled (the model card measures one: which
 * line of the example to fix), and their mean holds what they share. Every file must hold the
 * same tensors with the same shapes; the mean is float32, whatever the files store.
 */
import { type FloatTensor, type Tensor, type TensorToWrite, readSafetensors } from "./safetensors";

const isFloat = (t: Tensor): t is FloatTensor => t.data instanceof Float32Array;

/** The mean of the float tensors in `files` (safetensors paths), in the first file's order. */
export function averageWeights(files: string[]): Record<string, TensorToWrite> {
  if (files.length === 0) throw new Error("averageWeights: no checkpoint to average");
  const [first, ...rest] = files.map((f) => ({ file: f, tensors: readSafetensors(f) }));
  const mean: Record<string, TensorToWrite> = {};
  for (const [name, tensor] of first!.tensors) {
    if (!isFloat(tensor)) throw new Error(`${first!.file}: tensor ${name} is not a float tensor`);
    const sum = Float64Array.from(tensor.data);
    for (const other of rest) {
      const t = other.tensors.get(name);
      if (t === undefined) throw new Error(`${other.file} has no tensor ${name}`);
      if (!isFloat(t) || t.shape.join("x") !== tensor.shape.join("x"))
        throw new Error(`${other.file}: tensor ${name} is [${t.shape}], ${first!.file} has [${tensor.shape}]`);
      for (let i = 0; i < sum.length; i++) sum[i]! += t.data[i]!;
    }
    mean[name] = { shape: tensor.shape, data: Float32Array.from(sum, (v) => v / files.length) };
  }
  for (const other of rest) {
    const extra = [...other.tensors.keys()].find((name) => !first!.tensors.has(name));
    if (extra !== undefined) throw new Error(`${other.file} has a tensor ${extra} that ${first!.file} lacks`);
  }
  return mean;
}
