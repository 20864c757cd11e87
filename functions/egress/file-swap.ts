/**
 * Replaces a file the proxy's helpers read, atomically (write a temp file, rename over). The new
 * file's mtime is set strictly past the old one's whole second: basic_ncsa_auth re-reads its
 * credential file only when `st_mtime` (seconds) changes, so two swaps within one second would
 * otherwise leave it on the first.
 */
import { chownSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';

export function swapFile(file: string, content: string, mode = 0o640, owner?: { uid: number; gid: number }): void {
  let previous: number;
  try {
    previous = Math.floor(statSync(file).mtimeMs / 1000);
  } catch {
    previous = 0;
  }
  const next = `${file}.next`;
  writeFileSync(next, content, { mode });
  const t = Math.max(Math.floor(Date.now() / 1000), previous + 1);
  utimesSync(next, t, t);
  // Squid's helpers run as the unprivileged proxy user.
  if (owner) chownSync(next, owner.uid, owner.gid);
  renameSync(next, file);
}
