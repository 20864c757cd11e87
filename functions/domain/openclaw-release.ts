/**
 * The OpenClaw release the platform renders for and is verified against (npm run conformance,
 * conformance/openclaw/package.json pins the same version; image/Dockerfile installs it).
 * Pure domain code.
 */

export const OPENCLAW_RELEASE = '2026.9.6';

/** The image's application directory (image/Dockerfile): the package set is installed with npm under it. */
export const IMAGE_APP_DIR = '/app';

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

/**
 * Official channel plugins published on npm beside the release (same version), added to the package
 * set (conformance/openclaw/package.json, so the image carries them) and loaded from the image by
 * an explicit `plugins.load.paths` entry: a path selected in config outranks any copy of the same id
 * found in the tenant-writable state directory (`~/.openclaw/extensions`), so a tenant cannot shadow
 * the image's plugin (docs plugins/manifest/package-json.md, "Discovery precedence").
 */
export const PACKAGED_PLUGINS: Readonly<Record<string, string>> = {
  slack: '@openclaw/slack',
  discord: '@openclaw/discord',
};

/**
 * Official plugins an image may carry beyond the package set, by npm package name: the Bedrock
 * provider, installed at image build from ClawHub when the image is built with it (image/Dockerfile,
 * BEDROCK_PLUGIN_SPEC), at `/app/node_modules/<package>`. Not selected in `plugins.load.paths` (the
 * path exists only in such an image); declared installed by the plugin-init container when allowed
 * (functions/domain/plugin-install-records.ts). In an image without it the declaration names a path
 * that does not exist, which OpenClaw skips: the plugin stays "not installed".
 */
export const OPTIONAL_IMAGE_PLUGINS: Readonly<Record<string, string>> = {
  'amazon-bedrock': '@openclaw/amazon-bedrock-provider',
};

/** Plugins a plan may name. */
export const KNOWN_PLUGINS: ReadonlySet<string> = new Set([...BUNDLED_PLUGINS, ...Object.keys(PACKAGED_PLUGINS), ...PLUGINS_OUTSIDE_PACKAGE_SET]);
