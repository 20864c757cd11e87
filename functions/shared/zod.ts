/**
 * zod for everything under functions/: the tree-shakable `zod/mini` flavour of zod 4 (the same core,
 * checks and error issues as classic zod, with functions instead of methods: `z.optional(s)`,
 * `s.check(z.minLength(1))`), because classic zod's schema classes carry every method and its JSON
 * Schema conversion into each bundle whatever a function uses (about 100 KB of every bundle, against
 * about 30 KB).
 *
 * Classic zod sets its English messages when imported; mini does not, so this module does, before
 * any schema here parses anything: every file under functions/ imports zod from this module.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
