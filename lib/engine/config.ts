/**
 * The Qwen3 model configuration, read from a Hugging Face `config.json`. Only the fields that
 * change the computation are kept; names follow the engine's dimension letters (C, NH, NKV, HD, V).
 */

export interface ModelConfig {
  /** V: vocabulary size. */
  vocabSize: number;
  /** C: hidden size. */
  hiddenSize: number;
  /** I: MLP intermediate size. */
  intermediateSize: number;
  numLayers: number;
  /** NH: query heads. */
  numHeads: number;
  /** NKV: key/value heads (grouped-query attention: NH is a multiple of NKV). */
  numKvHeads: number;
  /** HD: per-head dimension (not necessarily C / NH in Qwen3). */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
}

/** Parses a Hugging Face Qwen3 config (rope theta from `rope_theta` or `rope_parameters`). */
export function parseHfConfig(json: Record<string, unknown>): ModelConfig {
  const num = (key: string, fallback?: number): number => {
    const v = json[key];
    if (typeof v === "number") return v;
    if (fallback !== undefined) return fallback;
    throw new Error(`config.json: missing numeric field "${key}"`);
  };
  const modelType = json.model_type;
  if (modelType !== undefined && modelType !== "qwen3")
    throw new Error(`config.json: model_type "${String(modelType)}" is not qwen3`);
  if (json.attention_bias === true)
    throw new Error("config.json: attention_bias is not supported (Qwen3 has no biases)");
  if (json.hidden_act !== undefined && json.hidden_act !== "silu")
    throw new Error(`config.json: hidden_act "${String(json.hidden_act)}" is not silu`);
  const ropeParams = json.rope_parameters as { rope_theta?: number; rope_type?: string } | undefined;
  const ropeScaling = json.rope_scaling as { rope_type?: string; type?: string } | null | undefined;
  const ropeType = ropeParams?.rope_type ?? ropeScaling?.rope_type ?? ropeScaling?.type ?? "default";
  if (ropeType !== "default") throw new Error(`config.json: rope type "${ropeType}" is not supported`);
  const ropeTheta = typeof json.rope_theta === "number" ? json.rope_theta : ropeParams?.rope_theta;
  const numHeads = num("num_attention_heads");
  const hiddenSize = num("hidden_size");
  const config: ModelConfig = {
    vocabSize: num("vocab_size"),
    hiddenSize,
    intermediateSize: num("intermediate_size"),
    numLayers: num("num_hidden_layers"),
    numHeads,
    numKvHeads: num("num_key_value_heads", numHeads),
    headDim: typeof json.head_dim === "number" ? json.head_dim : hiddenSize / numHeads,
    rmsNormEps: num("rms_norm_eps", 1e-6),
    ropeTheta: ropeTheta ?? 10000,
    maxPositionEmbeddings: num("max_position_embeddings", 32768),
    tieWordEmbeddings: json.tie_word_embeddings === true,
  };
  validateConfig(config);
  return config;
}

export function validateConfig(c: ModelConfig): void {
  if (c.numHeads % c.numKvHeads !== 0)
    throw new Error(
      `config: num_attention_heads ${c.numHeads} is not a multiple of num_key_value_heads ${c.numKvHeads}`,
    );
  if (c.headDim % 2 !== 0) throw new Error(`config: head_dim ${c.headDim} must be even for rotary embeddings`);
}

/**
 * Writes the config back as Hugging Face Qwen3 fields, which both our loader and transformers read
 * (saved models, random models in tests and benches). `dtype` names the stored tensors' type.
 */
export function toHfConfig(
  c: ModelConfig,
  dtype: "float32" | "bfloat16" = "float32",
  initializerRange = 0.02,
): Record<string, unknown> {
  return {
    architectures: ["Qwen3ForCausalLM"],
    model_type: "qwen3",
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    max_position_embeddings: c.maxPositionEmbeddings,
    tie_word_embeddings: c.tieWordEmbeddings,
    rope_parameters: { rope_theta: c.ropeTheta, rope_type: "default" },
    layer_types: Array.from({ length: c.numLayers }, () => "full_attention"),
    attention_bias: false,
    attention_dropout: 0,
    hidden_act: "silu",
    initializer_range: initializerRange,
    use_cache: true,
    use_sliding_window: false,
    sliding_window: null,
    max_window_layers: c.numLayers,
    bos_token_id: null,
    eos_token_id: null,
    pad_token_id: null,
    // transformers 4 reads torch_dtype, 5 reads dtype.
    torch_dtype: dtype,
    dtype,
  };
}
