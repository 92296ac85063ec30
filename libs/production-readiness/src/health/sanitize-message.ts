/**
 * Removes from an error message what must not leave the service through
 * /healthz: credentials in any URL, and the hosts, users and passwords of the
 * secret URLs in the config (`connect ECONNREFUSED db.internal:5432`).
 */
export function messageSanitizer(
  secretUrls: readonly (string | undefined)[],
): (message: string) => string {
  const secrets = new Set<string>();
  for (const value of secretUrls) {
    for (const part of (value ?? '').split(',')) {
      let url: URL;
      try {
        url = new URL(part.trim());
      } catch {
        continue;
      }
      // Node prints an IPv6 peer without brackets: `connect ECONNREFUSED fd00::5:5432`.
      const bareHost = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const bareHostPort = url.port ? `${bareHost}:${url.port}` : bareHost;
      for (const secret of [
        url.password,
        url.username,
        url.host,
        url.hostname,
        bareHostPort,
        bareHost,
      ]) {
        if (secret && secret.length >= 3) secrets.add(decodeURIComponent(secret));
      }
    }
  }
  // Longest first, so `db.internal:5432` goes before `db.internal`.
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  return (message) => {
    let safe = message.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
    for (const secret of ordered) safe = safe.split(secret).join('***');
    return safe.length > 300 ? `${safe.slice(0, 297)}...` : safe;
  };
}
