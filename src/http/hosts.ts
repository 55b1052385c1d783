/** Host names as URLs give them: brackets around IPv6 addresses, and which names are this machine. */

/** A hostname as a URL gives it, without the brackets around an IPv6 address. */
export function bareHostname(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Whether `hostname` (as a URL gives it) names this machine: localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const bare = bareHostname(hostname).toLowerCase();
  return bare === 'localhost' || bare.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(bare) || bare === '::1' || /^::ffff:127\./.test(bare);
}
