/**
 * The embedded training engine: Qwen3 with LoRA adapters (or full-parameter training, for
 * pretraining) in TypeScript, matching Hugging Face transformers + PEFT numerically. Use
 * EngineClient (worker thread, async) from application code; Engine is the same API in the
 * calling thread (tests, scripts).
 */
export { Engine, type CreateAdapterOptions } from "./engine";
export type { SavedDtype } from "./full-training";
export { sharedPrefixLength, type SharedPrefix } from "./shared-prefix";
export { EngineClient, type EngineWorkerData } from "./client";
export { parseHfConfig, toHfConfig, type ModelConfig } from "./config";
export { loadBaseModel, randomBaseModel, namedBaseTensors, type BaseModel } from "./weights";
export { ALL_TARGETS, peftKey, peftInMemoryName, type LoraConfig, type TargetModule } from "./lora";
export { readSafetensors, writeSafetensors, readSafetensorsHeader } from "./safetensors";
export { countingKernels, type CountingKernels, type KernelStats } from "./accounting";
export { Rng } from "./sampling";
