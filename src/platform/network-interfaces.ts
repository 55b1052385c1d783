import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/**
 * The local address to bind for each named interface, in the order given.
 * IPv4 is preferred because S3 endpoints resolve to IPv4 unless dual-stack is asked for.
 * Returns, for each name, the address, or an error text naming what is wrong.
 */
export function interfaceAddresses(
  names: readonly string[],
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): Array<{ name: string; address: string } | { name: string; problem: string }> {
  return names.map((name) => {
    const entries = interfaces[name];
    if (!entries) return { name, problem: `no network interface is named "${name}"` };
    const chosen = entries.find((entry) => entry.family === 'IPv4') ?? entries.find((entry) => entry.family === 'IPv6' && !entry.address.startsWith('fe80'));
    if (!chosen) return { name, problem: `network interface "${name}" has no usable address` };
    return { name, address: chosen.address };
  });
}
