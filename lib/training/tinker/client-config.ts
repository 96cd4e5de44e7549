/**
 * The answer to `POST /api/v1/client/config`: the feature flags the Python SDK reads once, before
 * any other call, to choose its transport and how it sends training data (SDK 0.25
 * `ClientConfigResponse`; a field the SDK does not know is ignored, one left out takes the SDK's
 * default). Each flag here differs from that default or is one the server must agree with; SDK
 * 0.24's `proto_write_fwdbwd` and `fwd_via_fwdbwd` keep their defaults (JSON forward_backward and
 * /api/v1/forward), which this server reads.
 */
export interface ClientConfig {
  /** Whether the SDK exchanges its key for short-lived JWTs at /api/v1/auth/token. */
  pjwt_auth_enabled: boolean;
  /** Where the SDK takes the credential it exchanges: the API key (no credential command). */
  credential_default_source: "api_key";
  /**
   * The SDK's default (true) builds its HTTP client on pyqwest, an optional Rust transport that
   * a plain install lacks; httpx speaks HTTP/1.1 to this server just as well.
   */
  use_pyqwest_transport: boolean;
  /** This server reads request bodies as they are: no zstd Content-Encoding. */
  proto_compress_fwdbwd: boolean;
  /** Chunks of one forward_backward may arrive in any order: the model's seq_id queue orders them. */
  parallel_fwdbwd_chunks: boolean;
  /** from_state clients go weights_info → create_model → load_weights, not one load_weights. */
  create_model_via_load_weights: boolean;
}

export function clientConfig(options: { jwtEnabled: boolean }): ClientConfig {
  return {
    pjwt_auth_enabled: options.jwtEnabled,
    credential_default_source: "api_key",
    use_pyqwest_transport: false,
    proto_compress_fwdbwd: false,
    parallel_fwdbwd_chunks: true,
    create_model_via_load_weights: false,
  };
}
