/**
 * The OpenClaw release the platform renders for and is verified against (npm run conformance,
 * conformance/openclaw/package.json pins the same version; image/Dockerfile installs it).
 * Pure domain code.
 */

export const OPENCLAW_RELEASE = '2026.9.6';

/**
 * Plugin ids bundled in the pinned release's npm package (dist/extensions/<dir>/openclaw.plugin.json),
 * so carried by the tenant image. The conformance suite checks this list against the installed package.
 */
export const BUNDLED_PLUGINS: readonly string[] = [
  'a2a', 'active-memory', 'admin-http-rpc', 'alibaba', 'anthropic', 'apple-fm', 'azure-speech', 'beam', 'bonjour', 'browser',
  'canvas', 'clawrouter', 'code-mode-quickjs', 'copilot-proxy', 'crabbox', 'cua-computer', 'deepgram', 'device-pair',
  'document-extract', 'elevenlabs', 'fal', 'file-transfer', 'geolocation', 'github', 'github-copilot', 'google', 'huggingface',
  'imap', 'linux-node', 'litellm', 'llm-task', 'lmstudio', 'logbook', 'memory-core', 'memory-wiki', 'microsoft',
  'microsoft-foundry', 'migrate-claude', 'migrate-hermes', 'minimax', 'nvidia', 'oc-path', 'ollama', 'onepassword', 'openai',
  'opencode-go', 'openrouter', 'policy', 'reef', 'runway', 'senseaudio', 'session-share', 'sglang', 'talk-voice', 'telegram',
  'together', 'tts-local-cli', 'vault', 'vllm', 'web-readability', 'webhooks', 'workboard', 'xai',
];

/**
 * Plugins a plan may allow although the npm package set does not carry them: the Bedrock provider
 * (`@openclaw/amazon-bedrock-provider`, not on npm: ClawHub or a source-built image with
 * OPENCLAW_EXTENSIONS). A plan allowing one needs an image built with it; against the package set,
 * `openclaw config validate` warns "plugin not installed" (asserted by the conformance suite), and a
 * gateway started without it tries a run-time `npm install` and exits.
 */
export const PLUGINS_OUTSIDE_PACKAGE_SET: readonly string[] = ['amazon-bedrock'];

/** Plugins a plan may name. */
export const KNOWN_PLUGINS: ReadonlySet<string> = new Set([...BUNDLED_PLUGINS, ...PLUGINS_OUTSIDE_PACKAGE_SET]);
